/*
 * bench/waf.py's peer: feeds requests through ModSecurity v3 (libmodsecurity) with the rules the
 * configuration file names, and prints one verdict line per request.
 *
 *   gcc -O2 -o modsec_driver modsec_driver.c -lmodsecurity
 *   modsec_driver main.conf < requests.bin > verdicts.txt
 *
 * Input (binary safe, written by bench/waf.py): per request one ASCII line
 *   "<method len> <uri len> <client ip len> <body len> <header count>\n"
 * then the method, URI, client IP and body bytes, then per header a line "<name len> <value len>\n"
 * followed by the name and value bytes.
 * Output: per request "<index> <HTTP status> <nanoseconds> <rule ids>\n"; status 200 when
 * ModSecurity did not intervene; the ids of the rules that logged a match, comma-separated ("-"
 * for none). The time covers the whole transaction, from its creation to its cleanup, in this one
 * thread (CLOCK_MONOTONIC), including the formatting of ModSecurity's match messages (a real
 * deployment logs them) but not their output.
 */
#include <modsecurity/intervention.h>
#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned char *read_exact(size_t n) {
    unsigned char *buf = malloc(n + 1);
    if (buf == NULL || fread(buf, 1, n, stdin) != n) {
        fprintf(stderr, "modsec_driver: truncated input\n");
        exit(2);
    }
    buf[n] = '\0';
    return buf;
}

/* Disruptive action so far: its status, or 0. Frees what ModSecurity allocated for it. */
static int intervened(Transaction *tx) {
    ModSecurityIntervention it;
    memset(&it, 0, sizeof it);
    it.status = 200;
    int status = 0;
    if (msc_intervention(tx, &it) > 0 && it.disruptive) {
        status = it.status;
    }
    free(it.url);
    free(it.log);
    return status;
}

/* The server log callback: keeps the id of each rule that logged a match, drops the message. */
typedef struct {
    char ids[4096];
    size_t used;
} Matched;

static void on_log(void *data, const void *message) {
    Matched *matched = data;
    const char *found = message ? strstr(message, "[id \"") : NULL;
    if (matched == NULL || found == NULL) {
        return;
    }
    found += 5;
    size_t n = strcspn(found, "\"");
    if (matched->used + n + 2 < sizeof matched->ids) {
        if (matched->used) {
            matched->ids[matched->used++] = ',';
        }
        memcpy(matched->ids + matched->used, found, n);
        matched->used += n;
        matched->ids[matched->used] = '\0';
    }
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: modsec_driver main.conf < requests.bin\n");
        return 2;
    }
    ModSecurity *msc = msc_init();
    msc_set_connector_info(msc, "mamori-bench");
    msc_set_log_cb(msc, on_log);
    Matched matched;
    RulesSet *rules = msc_create_rules_set();
    const char *error = NULL;
    if (msc_rules_add_file(rules, argv[1], &error) < 0) {
        fprintf(stderr, "modsec_driver: %s: %s\n", argv[1], error ? error : "cannot load rules");
        return 3;
    }
    size_t method_len, uri_len, ip_len, body_len, count;
    long index = 0;
    while (scanf("%zu %zu %zu %zu %zu", &method_len, &uri_len, &ip_len, &body_len, &count) == 5) {
        if (getchar() != '\n') {
            fprintf(stderr, "modsec_driver: bad record header at request %ld\n", index);
            return 2;
        }
        unsigned char *method = read_exact(method_len), *uri = read_exact(uri_len);
        unsigned char *ip = read_exact(ip_len), *body = read_exact(body_len);
        unsigned char **names = calloc(count + 1, sizeof *names);
        unsigned char **values = calloc(count + 1, sizeof *values);
        size_t *name_lens = calloc(count + 1, sizeof *name_lens);
        size_t *value_lens = calloc(count + 1, sizeof *value_lens);
        for (size_t i = 0; i < count; i++) {
            if (scanf("%zu %zu", &name_lens[i], &value_lens[i]) != 2 || getchar() != '\n') {
                fprintf(stderr, "modsec_driver: bad header at request %ld\n", index);
                return 2;
            }
            names[i] = read_exact(name_lens[i]);
            values[i] = read_exact(value_lens[i]);
        }

        matched.used = 0;
        matched.ids[0] = '\0';
        long long start = now_ns();
        Transaction *tx = msc_new_transaction(msc, rules, &matched);
        msc_process_connection(tx, (const char *)ip, 40000, "127.0.0.1", 80);
        msc_process_uri(tx, (const char *)uri, (const char *)method, "1.1");
        int status = intervened(tx);
        if (!status) {
            for (size_t i = 0; i < count; i++) {
                msc_add_n_request_header(tx, names[i], name_lens[i], values[i], value_lens[i]);
            }
            msc_process_request_headers(tx);
            status = intervened(tx);
        }
        if (!status) {
            msc_append_request_body(tx, body, body_len);
            msc_process_request_body(tx);
            status = intervened(tx);
        }
        msc_process_logging(tx);
        msc_transaction_cleanup(tx);
        long long elapsed = now_ns() - start;

        printf("%ld %d %lld %s\n", index++, status ? status : 200, elapsed,
               matched.used ? matched.ids : "-");
        for (size_t i = 0; i < count; i++) {
            free(names[i]);
            free(values[i]);
        }
        free(names), free(values), free(name_lens), free(value_lens);
        free(method), free(uri), free(ip), free(body);
    }
    msc_rules_cleanup(rules);
    msc_cleanup(msc);
    return 0;
}
