"""CloudTrail records shaped as CloudTrail writes them, and each account's routine day."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from mamori.detect.generator.model import AccountWorld, Actor, hex_id, uuid4

Record = dict[str, Any]

# Services whose events CloudTrail records in us-east-1 whatever the caller's region.
_GLOBAL_SOURCES = {"iam.amazonaws.com", "signin.amazonaws.com", "organizations.amazonaws.com"}
_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "Filter", "BatchGet")
_S3_DATA = {"GetObject", "PutObject", "DeleteObject", "HeadObject"}

# API habits of each kind of principal: (service, API, weight).
_HABITS: dict[str, list[tuple[str, str, int]]] = {
    "developer": [
        ("ec2", "DescribeInstances", 5),
        ("lambda", "ListFunctions20150331", 3),
        ("s3", "ListBuckets", 2),
        ("logs", "FilterLogEvents", 4),
        ("cloudformation", "DescribeStacks", 3),
        ("sts", "GetCallerIdentity", 2),
        ("s3", "GetObject", 4),
        ("ecr", "GetAuthorizationToken", 1),
        ("dynamodb", "DescribeTable", 2),
    ],
    "operator": [
        ("ec2", "DescribeInstances", 5),
        ("ec2", "DescribeSecurityGroups", 3),
        ("monitoring", "DescribeAlarms", 3),
        ("iam", "ListUsers", 1),
        ("iam", "GetUser", 1),
        ("ec2", "StartInstances", 1),
        ("ec2", "StopInstances", 1),
        ("ssm", "StartSession", 1),
        ("autoscaling", "DescribeAutoScalingGroups", 2),
    ],
    "analyst": [
        ("s3", "GetObject", 6),
        ("athena", "StartQueryExecution", 3),
        ("athena", "GetQueryResults", 3),
        ("glue", "GetTables", 2),
        ("s3", "ListBuckets", 1),
    ],
    "admin": [
        ("iam", "ListRoles", 2),
        ("iam", "GetRole", 2),
        ("cloudtrail", "DescribeTrails", 1),
        ("guardduty", "ListDetectors", 1),
        ("config", "DescribeConfigRules", 1),
        ("organizations", "DescribeOrganization", 1),
        ("ec2", "DescribeVpcs", 2),
    ],
    "ci": [
        ("cloudformation", "CreateChangeSet", 2),
        ("cloudformation", "ExecuteChangeSet", 2),
        ("cloudformation", "DescribeStacks", 4),
        ("s3", "PutObject", 4),
        ("lambda", "UpdateFunctionCode20150331v2", 1),
        ("sts", "GetCallerIdentity", 2),
    ],
    "instance": [
        ("s3", "GetObject", 8),
        ("s3", "PutObject", 3),
        ("kms", "Decrypt", 3),
        ("secretsmanager", "GetSecretValue", 2),
        ("ssm", "GetParameter", 3),
        ("sts", "GetCallerIdentity", 1),
    ],
}


def source_of(service: str) -> str:
    return f"{service}.amazonaws.com"


def is_read_only(name: str) -> bool:
    return name.startswith(_READ_PREFIXES) or name in {"GetObject", "HeadObject"}


def record_region(event_source: str, region: str, regions: list[str]) -> str:
    if event_source in _GLOBAL_SOURCES:
        return "us-east-1" if "us-east-1" in regions else regions[0]
    return region


def ct_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def identity(actor: Actor, t: datetime, access_key: str | None = None) -> Record:
    key = actor.access_key if access_key is None else access_key
    if actor.kind == "AWSService":
        return {"type": "AWSService", "invokedBy": actor.name}
    ident: Record = {"type": actor.kind, "principalId": actor.principal_id, "arn": actor.arn}
    ident["accountId"] = actor.account_id
    if key:
        ident["accessKeyId"] = key
    if actor.kind == "IAMUser":
        ident["userName"] = actor.name
    if actor.kind == "AssumedRole":
        ident["principalId"] = f"{actor.role_id or actor.principal_id}:{actor.session_name}"
    if actor.kind in ("AssumedRole", "Root") or key.startswith("ASIA"):
        created = (t - timedelta(minutes=t.minute % 50 + 3)).replace(second=0)
        context: Record = {
            "attributes": {
                "creationDate": ct_time(created),
                "mfaAuthenticated": "true" if actor.mfa else "false",
            }
        }
        if actor.kind == "AssumedRole":
            context["sessionIssuer"] = {
                "type": "Role",
                "principalId": actor.role_id or actor.principal_id,
                "arn": actor.role_arn,
                "accountId": actor.account_id,
                "userName": actor.name,
            }
            if actor.session_name.startswith("i-"):
                context["ec2RoleDelivery"] = "2.0"
        ident["sessionContext"] = context
    return ident


def api_record(
    rng: random.Random,
    actor: Actor,
    t: datetime,
    region: str,
    event_source: str,
    name: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    request: Record | None = None,
    response: Record | None = None,
    error: tuple[str, str] | None = None,
    resources: list[Record] | None = None,
    additional: Record | None = None,
    access_key: str | None = None,
    vpc_endpoint: str | None = None,
    event_type: str = "AwsApiCall",
) -> Record:
    """One record with the fields CloudTrail writes, in CloudTrail's order."""
    data_event = event_source == "s3.amazonaws.com" and name in _S3_DATA
    agent = user_agent or rng.choice(actor.user_agents)
    agent = agent.replace("{cmd}", _cli_command(name))
    rec: Record = {
        "eventVersion": "1.09" if not data_event else "1.10",
        "userIdentity": identity(actor, t, access_key),
        "eventTime": ct_time(t),
        "eventSource": event_source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip or rng.choice(actor.ips),
        "userAgent": agent,
    }
    if error:
        rec["errorCode"], rec["errorMessage"] = error
    rec["requestParameters"] = request
    rec["responseElements"] = response
    if additional is not None:
        rec["additionalEventData"] = additional
    rec["requestID"] = hex_id(rng, 16).upper() if event_source == "s3.amazonaws.com" else uuid4(rng)
    rec["eventID"] = uuid4(rng)
    rec["readOnly"] = is_read_only(name)
    if resources is not None:
        rec["resources"] = resources
    rec["eventType"] = event_type
    rec["managementEvent"] = not data_event
    rec["recipientAccountId"] = actor.account_id if actor.kind != "AWSService" else ""
    if vpc_endpoint:
        rec["vpcEndpointId"] = vpc_endpoint
    rec["eventCategory"] = "Data" if data_event else "Management"
    if event_type == "AwsApiCall":
        rec["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": _host(event_source, region, request),
        }
    return rec


def _cli_command(name: str) -> str:
    out: list[str] = []
    for ch in name.rstrip("0123456789v"):
        if ch.isupper() and out:
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


def _host(event_source: str, region: str, request: Record | None) -> str:
    service = event_source.split(".", maxsplit=1)[0]
    if service == "s3" and request and "bucketName" in request:
        return f"{request['bucketName']}.s3.{region}.amazonaws.com"
    if event_source in _GLOBAL_SOURCES:
        return event_source
    return f"{service}.{region}.amazonaws.com"


def s3_object_record(
    rng: random.Random,
    actor: Actor,
    t: datetime,
    region: str,
    name: str,
    bucket: str,
    key: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    vpc_endpoint: str | None = None,
) -> Record:
    """An S3 data event: the object and its bucket in resources[], as CloudTrail lists them."""
    request = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key}
    size = rng.randrange(400, 4_000_000)
    return api_record(
        rng,
        actor,
        t,
        region,
        "s3.amazonaws.com",
        name,
        ip=ip,
        user_agent=user_agent,
        request=request,
        response={"x-amz-version-id": hex_id(rng, 32)} if name == "PutObject" else None,
        additional={
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": size if name == "PutObject" else 0,
            "bytesTransferredOut": size if name == "GetObject" else 0,
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": hex_id(rng, 60),
        },
        resources=[
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {
                "accountId": actor.account_id,
                "type": "AWS::S3::Bucket",
                "ARN": f"arn:aws:s3:::{bucket}",
            },
        ],
        vpc_endpoint=vpc_endpoint,
    )


def console_login(
    rng: random.Random,
    actor: Actor,
    t: datetime,
    regions: list[str],
    *,
    mfa_used: bool,
    ip: str | None = None,
    success: bool = True,
) -> Record:
    region = record_region("signin.amazonaws.com", "", regions)
    rec = api_record(
        rng,
        actor,
        t,
        region,
        "signin.amazonaws.com",
        "ConsoleLogin",
        ip=ip,
        user_agent=CONSOLE_AGENT_FOR_LOGIN,
        response={"ConsoleLogin": "Success" if success else "Failure"},
        additional={
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": "Yes" if mfa_used else "No",
        },
        access_key="",
        event_type="AwsConsoleSignIn",
        error=None if success else ("", "Failed authentication"),
    )
    if not success:
        del rec["errorCode"]
    rec.pop("tlsDetails", None)
    return rec


CONSOLE_AGENT_FOR_LOGIN = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36"
)


def _request_for(
    rng: random.Random, world: AccountWorld, actor: Actor, service: str, name: str, region: str
) -> Record | None:
    """Plausible parameters for the routine calls; reads without arguments carry none."""
    if name == "GetSecretValue":
        return {"secretId": rng.choice(world.secrets[:3])}
    if name == "GetParameter":
        return {"name": f"/app/{rng.choice(('feature-flags', 'endpoint', 'log-level'))}"}
    if name == "Decrypt":
        return {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    if name in ("StartInstances", "StopInstances"):
        return {
            "instancesSet": {"items": [{"instanceId": rng.choice(world.instances).instance_id}]}
        }
    if name == "GetUser":
        return {"userName": rng.choice(world.people[:4]).name}
    if name == "GetRole":
        return {"roleName": rng.choice(("app-server-role", "backup-lifecycle"))}
    if name == "FilterLogEvents":
        return {"logGroupName": "/aws/lambda/orders", "limit": 100}
    if name in ("DescribeStacks", "CreateChangeSet", "ExecuteChangeSet"):
        return {"stackName": rng.choice(("orders-api", "web-frontend", "network"))}
    if name == "StartQueryExecution":
        return {"queryString": "SELECT count(*) FROM sales", "workGroup": "primary"}
    if name == "DescribeTable":
        return {"tableName": "orders"}
    return None


def _pick(rng: random.Random, habit: str) -> tuple[str, str]:
    catalogue = _HABITS[habit]
    service, name, _ = rng.choices(catalogue, weights=[w for *_, w in catalogue])[0]
    return service, name


def _moment(rng: random.Random, day: datetime, hours: tuple[int, int]) -> datetime:
    lo, hi = hours
    if rng.random() < 0.05:  # people sometimes work late; a baseline is never perfectly clean
        lo, hi = 0, 24
    return day + timedelta(seconds=rng.uniform(lo * 3600, hi * 3600 - 1))


def routine_call(
    rng: random.Random, world: AccountWorld, actor: Actor, t: datetime, regions: list[str]
) -> Record:
    service, name = _pick(rng, actor.habit)
    source = source_of(service)
    region = world.region
    if actor.habit != "instance" and len(regions) > 1 and rng.random() < 0.2:
        region = rng.choice(regions)
    region = record_region(source, region, regions)
    if name in _S3_DATA:
        bucket = world.buckets[0] if actor.habit != "analyst" else world.buckets[1]
        key = f"data/{t:%Y/%m/%d}/part-{rng.randrange(10000):05d}.parquet"
        return s3_object_record(rng, actor, t, region, name, bucket, key)
    error = None
    if actor.habit not in ("instance", "ci") and rng.random() < 0.015:
        error = (
            "AccessDenied",
            f"User: {actor.arn} is not authorized to perform: {service}:{name}",
        )
    request = _request_for(rng, world, actor, service, name, region)
    return api_record(rng, actor, t, region, source, name, request=request, error=error)


def _service_refresh(rng: random.Random, world: AccountWorld, t: datetime) -> Record:
    """EC2 fetching fresh credentials for an instance profile: an AWSService-invoked call."""
    inst = rng.choice(world.instances)
    service = Actor("AWSService", "ec2.amazonaws.com", world.account_id, "", "", [], [], "")
    rec = api_record(
        rng,
        service,
        t,
        world.region,
        "sts.amazonaws.com",
        "AssumeRole",
        ip="ec2.amazonaws.com",
        user_agent="ec2.amazonaws.com",
        request={"roleArn": inst.role.role_arn, "roleSessionName": inst.instance_id},
        response={
            "credentials": {
                "accessKeyId": inst.role.access_key,
                "sessionToken": "IQoJb3JpZ2luX2VjE" + hex_id(rng, 24),
                "expiration": (t + timedelta(hours=6)).strftime("%b %d, %Y, %I:%M:%S %p"),
            }
        },
        resources=[
            {"accountId": world.account_id, "type": "AWS::IAM::Role", "ARN": inst.role.role_arn}
        ],
    )
    rec["recipientAccountId"] = world.account_id
    rec["sharedEventID"] = uuid4(rng)
    rec.pop("tlsDetails", None)
    return rec


def background_day(
    seed_rng: random.Random, world: AccountWorld, day: datetime, count: int, regions: list[str]
) -> Iterator[tuple[datetime, Record]]:
    """Exactly `count` routine records for one account and UTC day, in no particular order."""
    rng = seed_rng
    people = world.people
    shares = [(a, 35 / len(people)) for a in people]
    shares += [(i.role, 45 / len(world.instances)) for i in world.instances]
    shares += [(world.ci, 12.0)]
    total = sum(w for _, w in shares) + 8.0
    n_service = count * 8 // int(total) if count else 0
    for _ in range(n_service):
        t = day + timedelta(seconds=rng.uniform(0, 86399))
        yield t, _service_refresh(rng, world, t)
    remaining = count - n_service
    for _ in range(remaining):
        actor = rng.choices([a for a, _ in shares], weights=[w for _, w in shares])[0]
        t = _moment(rng, day, actor.hours)
        yield t, routine_call(rng, world, actor, t, regions)
