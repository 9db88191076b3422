/* CloudTrail records (the dicts orjson parsed) -> the `events` table's columns as Arrow buffers.

The reference is mamori.detect.readers.cloudtrail._columns: one Python comprehension a column.
This does the same walk over the same Python objects in one pass, appending straight into Arrow
buffers, so that a record costs a few dictionary look-ups instead of thirty interpreted lines
and pyarrow conversions. What it cannot decide alone it hands back to Python: a value of an odd
type becomes text through the caller's `as_text`, and JSON text (objects, `raw`) is the caller's
`dumps` (orjson's), so the values are those of the reference by construction.

Each column comes back as a tuple of its buffers (bytes objects, wrapped by pyarrow without a
copy). Nothing here keeps a reference to a record past the call. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* A growable byte buffer that is a bytes object, so that Python gets it without a copy. */
typedef struct {
    PyObject *obj;
    Py_ssize_t len;
    Py_ssize_t cap;
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t extra)
{
    Py_ssize_t want = b->len + extra;
    if (want <= b->cap && b->obj != NULL)
        return 0;
    Py_ssize_t cap = b->cap ? b->cap : 1024;
    while (cap < want)
        cap *= 2;
    if (b->obj == NULL) {
        b->obj = PyBytes_FromStringAndSize(NULL, cap);
        if (b->obj == NULL)
            return -1;
    }
    else if (_PyBytes_Resize(&b->obj, cap) < 0) {
        return -1; /* the object is freed and set to NULL */
    }
    b->cap = cap;
    return 0;
}

static inline char *buf_at(Buf *b) { return PyBytes_AS_STRING(b->obj) + b->len; }

static int buf_put(Buf *b, const void *data, Py_ssize_t size)
{
    if (buf_reserve(b, size) < 0)
        return -1;
    if (size)
        memcpy(buf_at(b), data, (size_t)size);
    b->len += size;
    return 0;
}

static int buf_put_i32(Buf *b, int32_t value) { return buf_put(b, &value, sizeof value); }

/* The bytes object, cut to its length; the buffer no longer owns it. */
static PyObject *buf_take(Buf *b)
{
    if (b->obj == NULL && buf_reserve(b, 1) < 0)
        return NULL;
    if (_PyBytes_Resize(&b->obj, b->len) < 0)
        return NULL;
    PyObject *out = b->obj;
    b->obj = NULL;
    b->len = b->cap = 0;
    return out;
}

static void buf_free(Buf *b)
{
    Py_CLEAR(b->obj);
    b->len = b->cap = 0;
}

/* A bitmap of n bits, all zero. */
static int bits_init(Buf *b, Py_ssize_t n)
{
    Py_ssize_t size = (n + 7) / 8;
    if (buf_reserve(b, size) < 0)
        return -1;
    memset(PyBytes_AS_STRING(b->obj), 0, (size_t)size);
    b->len = size;
    return 0;
}

static inline void bit_set(Buf *b, Py_ssize_t i)
{
    assert(b->obj != NULL && (i >> 3) < b->len);
    PyBytes_AS_STRING(b->obj)[i >> 3] |= (char)(1 << (i & 7));
}

/* A column of text: validity bitmap, int32 offsets, UTF-8 data. */
typedef struct {
    Buf valid, offsets, data;
    Py_ssize_t nulls;
    int growing; /* rows not known in advance: no validity bitmap, no nulls */
} Text;

/* A text column of n rows, or of rows added as they come when n < 0 (never null). */
static int text_init(Text *t, Py_ssize_t n)
{
    t->nulls = 0;
    t->growing = n < 0;
    if (!t->growing && bits_init(&t->valid, n) < 0)
        return -1;
    if (buf_reserve(&t->offsets, ((n < 0 ? 0 : n) + 1) * 4) < 0)
        return -1;
    return buf_put_i32(&t->offsets, 0);
}

static int text_end_row(Text *t)
{
    if (t->data.len > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "text column larger than 2 GB");
        return -1;
    }
    return buf_put_i32(&t->offsets, (int32_t)t->data.len);
}

static int text_null(Text *t)
{
    if (t->growing) {
        PyErr_SetString(PyExc_SystemError, "null in a column without nulls");
        return -1;
    }
    t->nulls++;
    return text_end_row(t);
}

static int text_bytes(Text *t, Py_ssize_t row, const char *s, Py_ssize_t size)
{
    if (!t->growing)
        bit_set(&t->valid, row);
    if (buf_put(&t->data, s, size) < 0)
        return -1;
    return text_end_row(t);
}

static int text_str(Text *t, Py_ssize_t row, PyObject *s)
{
    Py_ssize_t size;
    const char *utf8 = PyUnicode_AsUTF8AndSize(s, &size);
    if (utf8 == NULL)
        return -1;
    return text_bytes(t, row, utf8, size);
}

/* Appends the JSON bytes `dumps` returned (stolen reference). */
static int text_dumped(Text *t, Py_ssize_t row, PyObject *dumped)
{
    if (dumped == NULL)
        return -1;
    if (!PyBytes_Check(dumped)) {
        Py_DECREF(dumped);
        PyErr_SetString(PyExc_TypeError, "dumps must return bytes");
        return -1;
    }
    int rc = text_bytes(t, row, PyBytes_AS_STRING(dumped), PyBytes_GET_SIZE(dumped));
    Py_DECREF(dumped);
    return rc;
}

static void text_free(Text *t)
{
    buf_free(&t->valid);
    buf_free(&t->offsets);
    buf_free(&t->data);
}

/* ("text", nulls, validity or None, offsets, data) */
static PyObject *text_take(Text *t)
{
    PyObject *valid = t->growing ? Py_NewRef(Py_None) : buf_take(&t->valid);
    PyObject *offsets = buf_take(&t->offsets);
    PyObject *data = buf_take(&t->data);
    if (valid == NULL || offsets == NULL || data == NULL) {
        Py_XDECREF(valid);
        Py_XDECREF(offsets);
        Py_XDECREF(data);
        return NULL;
    }
    return Py_BuildValue("(snNNN)", "text", t->nulls, valid, offsets, data);
}

/* A column of booleans: validity and value bitmaps. */
typedef struct {
    Buf valid, values;
    Py_ssize_t nulls;
} Flag;

static int flag_init(Flag *f, Py_ssize_t n)
{
    f->nulls = 0;
    return bits_init(&f->valid, n) < 0 ? -1 : bits_init(&f->values, n);
}

/* -1 null, 0 false, 1 true */
static void flag_set(Flag *f, Py_ssize_t row, int value)
{
    if (value < 0) {
        f->nulls++;
        return;
    }
    bit_set(&f->valid, row);
    if (value)
        bit_set(&f->values, row);
}

static PyObject *flag_take(Flag *f)
{
    PyObject *valid = buf_take(&f->valid);
    PyObject *values = buf_take(&f->values);
    if (valid == NULL || values == NULL) {
        Py_XDECREF(valid);
        Py_XDECREF(values);
        return NULL;
    }
    return Py_BuildValue("(snNN)", "flag", f->nulls, valid, values);
}

static void flag_free(Flag *f)
{
    buf_free(&f->valid);
    buf_free(&f->values);
}

/* Interned keys and constants, made once. */
static PyObject *k_userIdentity, *k_sessionContext, *k_sessionIssuer, *k_attributes,
    *k_mfaAuthenticated, *k_userName, *k_arn, *k_type, *k_readOnly, *k_managementEvent,
    *k_eventCategory, *k_resources, *k_ARN, *k_requestParameters, *k_eventTime, *k_lower, *s_arn_prefix;

/* The record's text fields and the `userIdentity` fields, in the order of the columns. */
#define N_TEXT_FIELDS 11
static const char *TEXT_COLUMNS[N_TEXT_FIELDS] = {
    "event_id", "account_id", "region", "event_source", "event_name", "event_type",
    "source_ip", "user_agent", "error_code", "error_message", "vpc_endpoint_id"};
static const char *TEXT_KEYS[N_TEXT_FIELDS] = {
    "eventID", "recipientAccountId", "awsRegion", "eventSource", "eventName", "eventType",
    "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "vpcEndpointId"};
#define N_IDENTITY_FIELDS 5
static const char *IDENTITY_COLUMNS[N_IDENTITY_FIELDS] = {
    "principal_type", "principal_arn", "principal_account", "access_key_id", "invoked_by"};
static const char *IDENTITY_KEYS[N_IDENTITY_FIELDS] = {
    "type", "arn", "accountId", "accessKeyId", "invokedBy"};
#define N_JSON_FIELDS 3
static const char *JSON_COLUMNS[N_JSON_FIELDS] = {
    "request_parameters", "response_elements", "additional_event_data"};
static const char *JSON_KEYS[N_JSON_FIELDS] = {
    "requestParameters", "responseElements", "additionalEventData"};
static PyObject *text_keys[N_TEXT_FIELDS], *identity_keys[N_IDENTITY_FIELDS],
    *json_keys[N_JSON_FIELDS];

/* d.get(key) of a dict, or NULL (borrowed) when d is no dict (the reference's `_dict`) or lacks
   the key; -1 only on an error. */
static int get(PyObject *d, PyObject *key, PyObject **out)
{
    *out = NULL;
    if (d == NULL || !PyDict_Check(d))
        return 0;
    *out = PyDict_GetItemWithError(d, key);
    return (*out == NULL && PyErr_Occurred()) ? -1 : 0;
}

/* A value into a text column as the reference's `_texts` does: text as it is, None or missing
   as null, anything else through as_text. */
static int text_value(Text *t, Py_ssize_t row, PyObject *value, PyObject *as_text)
{
    if (value == NULL || value == Py_None)
        return text_null(t);
    if (PyUnicode_Check(value))
        return text_str(t, row, value);
    PyObject *text = PyObject_CallOneArg(as_text, value);
    if (text == NULL)
        return -1;
    int rc = text == Py_None ? text_null(t) : text_str(t, row, text);
    Py_DECREF(text);
    return rc;
}

/* Whether ASCII text s, lower-cased, is `lower`. */
static int ascii_lower_is(const char *s, const char *lower, Py_ssize_t size)
{
    for (Py_ssize_t i = 0; i < size; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != lower[i])
            return 0;
    }
    return 1;
}

/* The reference's `_flag`: a boolean as it is, "true"/"false" in any case as one, else null. */
static int flag_of(PyObject *value, int *out)
{
    *out = -1;
    if (value == NULL)
        return 0;
    if (PyBool_Check(value)) {
        *out = value == Py_True;
        return 0;
    }
    if (!PyUnicode_Check(value))
        return 0;
    PyObject *lowered;
    if (PyUnicode_IS_ASCII(value)) {
        Py_ssize_t size = PyUnicode_GET_LENGTH(value);
        const char *s = (const char *)PyUnicode_DATA(value);
        if (size == 4 && ascii_lower_is(s, "true", 4))
            *out = 1;
        else if (size == 5 && ascii_lower_is(s, "false", 5))
            *out = 0;
        return 0;
    }
    /* Beyond ASCII, str.lower() decides (as the reference asks it). */
    lowered = PyObject_CallMethodNoArgs(value, k_lower);
    if (lowered == NULL)
        return -1;
    if (PyUnicode_CompareWithASCIIString(lowered, "true") == 0)
        *out = 1;
    else if (PyUnicode_CompareWithASCIIString(lowered, "false") == 0)
        *out = 0;
    Py_DECREF(lowered);
    return 0;
}

static int is_text(PyObject *value, const char *ascii)
{
    return value != NULL && PyUnicode_Check(value) &&
           PyUnicode_CompareWithASCIIString(value, ascii) == 0;
}

/* The resources column: list offsets, and the ARNs' offsets and data (never null). */
typedef struct {
    Buf lists;
    Text arns;
    Py_ssize_t count;
    PyObject **seen; /* this record's ARNs so far (borrowed) */
    Py_ssize_t seen_cap;
} Arns;

static int arns_add(Arns *a, PyObject *arn)
{
    /* `arn not in arns`: the same text already listed for this record is skipped */
    for (Py_ssize_t i = 0; i < a->count; i++) {
        int same = PyUnicode_Compare(a->seen[i], arn);
        if (same == -1 && PyErr_Occurred())
            return -1;
        if (same == 0)
            return 0;
    }
    if (a->count == a->seen_cap) {
        Py_ssize_t cap = a->seen_cap ? a->seen_cap * 2 : 16;
        PyObject **grown = PyMem_Realloc(a->seen, (size_t)cap * sizeof(PyObject *));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        a->seen = grown;
        a->seen_cap = cap;
    }
    a->seen[a->count++] = arn;
    return text_str(&a->arns, a->arns.offsets.len / 4 - 1, arn);
}

/* The reference's `_resources`: ARNs of resources[], then request parameters that are ARNs. */
static int arns_row(Arns *a, PyObject *record)
{
    a->count = 0;
    PyObject *listed, *params;
    if (get(record, k_resources, &listed) < 0)
        return -1;
    if (listed != NULL && PyList_Check(listed)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(listed); i++) {
            PyObject *arn;
            if (get(PyList_GET_ITEM(listed, i), k_ARN, &arn) < 0)
                return -1;
            if (arn != NULL && PyUnicode_Check(arn) && PyUnicode_GET_LENGTH(arn) > 0 &&
                arns_add(a, arn) < 0)
                return -1;
        }
    }
    if (get(record, k_requestParameters, &params) < 0)
        return -1;
    if (params != NULL && PyDict_Check(params)) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(params, &pos, &key, &value)) {
            if (!PyUnicode_Check(value))
                continue;
            Py_ssize_t starts = PyUnicode_Tailmatch(value, s_arn_prefix, 0, 4, -1);
            if (starts < 0)
                return -1;
            if (starts && arns_add(a, value) < 0)
                return -1;
        }
    }
    Py_ssize_t total = a->arns.offsets.len / 4 - 1;
    if (total > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "too many ARNs");
        return -1;
    }
    return buf_put_i32(&a->lists, (int32_t)total);
}

/* The columns of one batch of records. */
typedef struct {
    Text text[N_TEXT_FIELDS], identity[N_IDENTITY_FIELDS], json[N_JSON_FIELDS];
    Text principal_name, session_issuer_arn, session_name, raw, event_time;
    Flag mfa, read_only, management;
    Arns resources;
} Columns;

#define EACH_TEXT(c, DO)                                                                      \
    do {                                                                                      \
        for (int i_ = 0; i_ < N_TEXT_FIELDS; i_++) DO(&(c)->text[i_]);                        \
        for (int i_ = 0; i_ < N_IDENTITY_FIELDS; i_++) DO(&(c)->identity[i_]);                \
        for (int i_ = 0; i_ < N_JSON_FIELDS; i_++) DO(&(c)->json[i_]);                        \
        DO(&(c)->principal_name);                                                             \
        DO(&(c)->session_issuer_arn);                                                         \
        DO(&(c)->session_name);                                                               \
        DO(&(c)->raw);                                                                        \
        DO(&(c)->event_time);                                                                 \
    } while (0)

static void columns_free(Columns *c)
{
    EACH_TEXT(c, text_free);
    flag_free(&c->mfa);
    flag_free(&c->read_only);
    flag_free(&c->management);
    buf_free(&c->resources.lists);
    text_free(&c->resources.arns);
    PyMem_Free(c->resources.seen);
}

static int columns_init(Columns *c, Py_ssize_t n)
{
    int failed = 0;
#define INIT(t) failed |= text_init((t), n) < 0
    EACH_TEXT(c, INIT);
#undef INIT
    failed |= flag_init(&c->mfa, n) < 0;
    failed |= flag_init(&c->read_only, n) < 0;
    failed |= flag_init(&c->management, n) < 0;
    failed |= buf_reserve(&c->resources.lists, (n + 1) * 4) < 0;
    failed |= buf_put_i32(&c->resources.lists, 0) < 0;
    failed |= text_init(&c->resources.arns, -1) < 0;
    return failed ? -1 : 0;
}

/* The reference's `_session_name(as_text(arn))` for an AssumedRole principal: what follows the
   last slash, or null when there is no slash or no ARN. */
static int session_name(Text *t, Py_ssize_t row, PyObject *arn, PyObject *as_text)
{
    PyObject *text = NULL;
    if (arn == NULL || arn == Py_None)
        return text_null(t);
    if (PyUnicode_Check(arn)) {
        text = arn;
        Py_INCREF(text);
    }
    else if ((text = PyObject_CallOneArg(as_text, arn)) == NULL) {
        return -1;
    }
    int rc;
    Py_ssize_t size;
    const char *utf8 = text == Py_None ? NULL : PyUnicode_AsUTF8AndSize(text, &size);
    if (text != Py_None && utf8 == NULL) {
        rc = -1;
    }
    else {
        /* '/' never occurs inside a multi-byte UTF-8 sequence */
        const char *slash = NULL;
        for (Py_ssize_t i = utf8 ? size - 1 : -1; i >= 0 && slash == NULL; i--)
            if (utf8[i] == '/')
                slash = utf8 + i;
        rc = slash ? text_bytes(t, row, slash + 1, utf8 + size - slash - 1) : text_null(t);
    }
    Py_DECREF(text);
    return rc;
}

static int record_row(Columns *c, Py_ssize_t row, PyObject *record, PyObject *as_text,
                      PyObject *dumps)
{
    PyObject *value, *who, *context, *issuer, *attributes, *own, *name, *type, *arn;
    int flag;
    for (int i = 0; i < N_TEXT_FIELDS; i++) {
        if (get(record, text_keys[i], &value) < 0 || text_value(&c->text[i], row, value, as_text) < 0)
            return -1;
    }
    if (get(record, k_userIdentity, &who) < 0 || get(who, k_sessionContext, &context) < 0 ||
        get(context, k_sessionIssuer, &issuer) < 0 || get(context, k_attributes, &attributes) < 0)
        return -1;
    for (int i = 0; i < N_IDENTITY_FIELDS; i++) {
        if (get(who, identity_keys[i], &value) < 0 ||
            text_value(&c->identity[i], row, value, as_text) < 0)
            return -1;
    }
    /* `who.get("userName") or issuer.get("userName")` */
    if (get(who, k_userName, &own) < 0)
        return -1;
    name = own;
    if (own != NULL) {
        int truth = PyObject_IsTrue(own);
        if (truth < 0)
            return -1;
        if (!truth)
            name = NULL;
    }
    if (name == NULL && get(issuer, k_userName, &name) < 0)
        return -1;
    if (text_value(&c->principal_name, row, name, as_text) < 0)
        return -1;
    if (get(issuer, k_arn, &value) < 0 || text_value(&c->session_issuer_arn, row, value, as_text) < 0)
        return -1;
    if (get(who, k_type, &type) < 0 || get(who, k_arn, &arn) < 0)
        return -1;
    if (is_text(type, "AssumedRole") ? session_name(&c->session_name, row, arn, as_text) < 0
                                     : text_null(&c->session_name) < 0)
        return -1;
    if (get(attributes, k_mfaAuthenticated, &value) < 0 || flag_of(value, &flag) < 0)
        return -1;
    flag_set(&c->mfa, row, flag);
    if (get(record, k_readOnly, &value) < 0 || flag_of(value, &flag) < 0)
        return -1;
    flag_set(&c->read_only, row, flag);
    /* Records older than the managementEvent field: only data events are not management. */
    if (get(record, k_managementEvent, &value) < 0 || flag_of(value, &flag) < 0)
        return -1;
    if (flag < 0) {
        if (get(record, k_eventCategory, &value) < 0)
            return -1;
        flag = !is_text(value, "Data");
    }
    flag_set(&c->management, row, flag);
    for (int i = 0; i < N_JSON_FIELDS; i++) {
        if (get(record, json_keys[i], &value) < 0)
            return -1;
        if (value == NULL || value == Py_None ? text_null(&c->json[i]) < 0
                                              : text_dumped(&c->json[i], row,
                                                            PyObject_CallOneArg(dumps, value)) < 0)
            return -1;
    }
    if (arns_row(&c->resources, record) < 0)
        return -1;
    /* eventTime's text, for the caller to parse (any other value is no time) */
    if (get(record, k_eventTime, &value) < 0 ||
        (value != NULL && PyUnicode_Check(value) ? text_str(&c->event_time, row, value)
                                                 : text_null(&c->event_time)) < 0)
        return -1;
    return text_dumped(&c->raw, row, PyObject_CallOneArg(dumps, record));
}

static int put(PyObject *out, const char *name, PyObject *column)
{
    if (column == NULL)
        return -1;
    int rc = PyDict_SetItemString(out, name, column);
    Py_DECREF(column);
    return rc;
}

static PyObject *columns_take(Columns *c)
{
    PyObject *out = PyDict_New();
    if (out == NULL)
        return NULL;
    int failed = 0;
    for (int i = 0; i < N_TEXT_FIELDS; i++)
        failed |= put(out, TEXT_COLUMNS[i], text_take(&c->text[i])) < 0;
    for (int i = 0; i < N_IDENTITY_FIELDS; i++)
        failed |= put(out, IDENTITY_COLUMNS[i], text_take(&c->identity[i])) < 0;
    for (int i = 0; i < N_JSON_FIELDS; i++)
        failed |= put(out, JSON_COLUMNS[i], text_take(&c->json[i])) < 0;
    failed |= put(out, "principal_name", text_take(&c->principal_name)) < 0;
    failed |= put(out, "session_issuer_arn", text_take(&c->session_issuer_arn)) < 0;
    failed |= put(out, "session_name", text_take(&c->session_name)) < 0;
    failed |= put(out, "raw", text_take(&c->raw)) < 0;
    failed |= put(out, "event_time_text", text_take(&c->event_time)) < 0;
    failed |= put(out, "mfa_authenticated", flag_take(&c->mfa)) < 0;
    failed |= put(out, "read_only", flag_take(&c->read_only)) < 0;
    failed |= put(out, "management_event", flag_take(&c->management)) < 0;
    PyObject *lists = buf_take(&c->resources.lists);
    PyObject *arns = text_take(&c->resources.arns);
    if (lists == NULL || arns == NULL) {
        Py_XDECREF(lists);
        Py_XDECREF(arns);
        failed = 1;
    }
    else {
        failed |= put(out, "resources", Py_BuildValue("(sNN)", "arns", lists, arns)) < 0;
    }
    if (failed) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

PyDoc_STRVAR(cloudtrail_columns_doc,
             "cloudtrail_columns(records, as_text, dumps) -> {column: buffers}\n\n"
             "The events table's columns of CloudTrail records (dicts), as built by\n"
             "mamori.detect.readers.cloudtrail._columns, as Arrow buffers: text columns as\n"
             "('text', nulls, validity, int32 offsets, data), flags as ('flag', nulls,\n"
             "validity, values), resources as ('arns', list offsets, text column), and\n"
             "event_time_text: eventTime where it is text, else null.");

static PyObject *cloudtrail_columns(PyObject *self, PyObject *args)
{
    PyObject *records, *as_text, *dumps;
    if (!PyArg_ParseTuple(args, "O!OO:cloudtrail_columns", &PyList_Type, &records, &as_text,
                          &dumps))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(records);
    Columns c;
    memset(&c, 0, sizeof c);
    PyObject *out = NULL;
    if (columns_init(&c, n) < 0)
        goto done;
    for (Py_ssize_t row = 0; row < n; row++) {
        PyObject *record = PyList_GET_ITEM(records, row);
        if (!PyDict_Check(record)) {
            PyErr_Format(PyExc_TypeError, "record %zd is not a dict", row);
            goto done;
        }
        /* The record stays alive while its values are read, whatever the callbacks do. */
        Py_INCREF(record);
        int rc = record_row(&c, row, record, as_text, dumps);
        Py_DECREF(record);
        if (rc < 0)
            goto done;
    }
    out = columns_take(&c);
done:
    columns_free(&c);
    return out;
}

static PyMethodDef methods[] = {
    {"cloudtrail_columns", cloudtrail_columns, METH_VARARGS, cloudtrail_columns_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "mamori_native",
    "Mamori's compiled helpers: CloudTrail records into Arrow columns.", -1, methods,
    NULL, NULL, NULL, NULL,
};

static PyObject *intern(const char *text) { return PyUnicode_InternFromString(text); }

PyMODINIT_FUNC PyInit_mamori_native(void)
{
    struct {
        PyObject **slot;
        const char *text;
    } keys[] = {
        {&k_userIdentity, "userIdentity"},
        {&k_sessionContext, "sessionContext"},
        {&k_sessionIssuer, "sessionIssuer"},
        {&k_attributes, "attributes"},
        {&k_mfaAuthenticated, "mfaAuthenticated"},
        {&k_userName, "userName"},
        {&k_arn, "arn"},
        {&k_type, "type"},
        {&k_readOnly, "readOnly"},
        {&k_managementEvent, "managementEvent"},
        {&k_eventCategory, "eventCategory"},
        {&k_resources, "resources"},
        {&k_ARN, "ARN"},
        {&k_requestParameters, "requestParameters"},
        {&k_eventTime, "eventTime"},
        {&k_lower, "lower"},
        {&s_arn_prefix, "arn:"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if ((*keys[i].slot = intern(keys[i].text)) == NULL)
            return NULL;
    }
    for (int i = 0; i < N_TEXT_FIELDS; i++)
        if ((text_keys[i] = intern(TEXT_KEYS[i])) == NULL)
            return NULL;
    for (int i = 0; i < N_IDENTITY_FIELDS; i++)
        if ((identity_keys[i] = intern(IDENTITY_KEYS[i])) == NULL)
            return NULL;
    for (int i = 0; i < N_JSON_FIELDS; i++)
        if ((json_keys[i] = intern(JSON_KEYS[i])) == NULL)
            return NULL;
    return PyModule_Create(&module);
}
