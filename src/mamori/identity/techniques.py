"""Privilege-escalation techniques: one table, each row an edge rule over the evaluator.

A row says which actions the attacker needs, on which target (`target`), and what the edge
grants: `acts_as` (the attacker obtains the target role's or user's permissions) or `elevate`
(the attacker can give the target principal any permissions it likes). The path analysis
(paths.py) checks every action of a row with the evaluator against the real target ARN, with
the request context the call would carry, so boundaries, SCPs, Deny statements, conditions,
resource ARNs and trust policies all count. Account state (key counts, policy versions,
existing passwords, workloads with roles) is checked by the edge rule of the row's target
kind, and `when_full` names the extra actions needed when that state stands in the way.

Target kinds:
  user / role           an IAM user or role of the account (role: also across accounts)
  group                 a group; `elevate` applies to its members
  attached-policy       a customer managed policy attached to a principal (directly or by group)
  service-role:<svc>    a role whose trust policy lets the AWS service <svc> assume it; the
                        attacker creates a new workload that runs with it (needs iam:PassRole)
  workload:<kind>       an existing workload of that kind running with a role

Sources: Rhino Security Labs' "AWS IAM privilege escalation methods", Bishop Fox's
iam-vulnerable, hackingthe.cloud, and DataDog's pathfinding.cloud catalogue (facts only).
"""

from __future__ import annotations

from dataclasses import dataclass

ACTS_AS = "acts_as"
ELEVATE = "elevate"

ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True, slots=True)
class Technique:
    id: str
    name: str
    actions: tuple[str, ...]
    target: str
    grants: str
    description: str
    # extra actions needed when the target's state stops the plain technique (e.g. a user
    # already has two access keys: one must be deleted first)
    when_full: tuple[str, ...] = ()
    # for service-role techniques: the service principal the role's trust must allow
    service: str | None = None
    # the service name put in iam:PassedToService when passing the role
    passed_to: str | None = None
    sources: tuple[str, ...] = ("rhino", "bishopfox", "hackingthe.cloud", "pathfinding.cloud")

    @property
    def needs_pass_role(self) -> bool:
        return self.target.startswith("service-role:")


def _t(*args: object, **kwargs: object) -> Technique:
    return Technique(*args, **kwargs)  # type: ignore[arg-type]


TECHNIQUES: tuple[Technique, ...] = (
    # -- self-escalation: rewrite the permissions of a principal -------------------------------
    _t(
        "iam-create-policy-version",
        "CreatePolicyVersion",
        ("iam:CreatePolicyVersion",),
        "attached-policy",
        ELEVATE,
        "Create a new default version of a managed policy attached to the principal.",
        when_full=("iam:DeletePolicyVersion",),
    ),
    _t(
        "iam-set-default-policy-version",
        "SetDefaultPolicyVersion",
        ("iam:SetDefaultPolicyVersion",),
        "attached-policy",
        ELEVATE,
        "Make an older, more permissive version of an attached policy the default.",
    ),
    _t(
        "iam-attach-user-policy",
        "AttachUserPolicy",
        ("iam:AttachUserPolicy",),
        "user",
        ELEVATE,
        "Attach AdministratorAccess to the user.",
    ),
    _t(
        "iam-attach-role-policy",
        "AttachRolePolicy",
        ("iam:AttachRolePolicy",),
        "role",
        ELEVATE,
        "Attach AdministratorAccess to the role.",
    ),
    _t(
        "iam-attach-group-policy",
        "AttachGroupPolicy",
        ("iam:AttachGroupPolicy",),
        "group",
        ELEVATE,
        "Attach AdministratorAccess to a group the principal is in.",
    ),
    _t(
        "iam-put-user-policy",
        "PutUserPolicy",
        ("iam:PutUserPolicy",),
        "user",
        ELEVATE,
        "Write an inline policy granting everything to the user.",
    ),
    _t(
        "iam-put-role-policy",
        "PutRolePolicy",
        ("iam:PutRolePolicy",),
        "role",
        ELEVATE,
        "Write an inline policy granting everything to the role.",
    ),
    _t(
        "iam-put-group-policy",
        "PutGroupPolicy",
        ("iam:PutGroupPolicy",),
        "group",
        ELEVATE,
        "Write an inline policy granting everything to a group the principal is in.",
    ),
    _t(
        "iam-add-user-to-group",
        "AddUserToGroup",
        ("iam:AddUserToGroup",),
        "admin-group",
        ELEVATE,
        "Add the user to a group whose policies make it an administrator.",
    ),
    _t(
        "iam-delete-user-boundary",
        "DeleteUserPermissionsBoundary",
        ("iam:DeleteUserPermissionsBoundary",),
        "bounded-user",
        ELEVATE,
        "Remove the permissions boundary that keeps the user's own policies from making it "
        "an administrator.",
    ),
    _t(
        "iam-delete-role-boundary",
        "DeleteRolePermissionsBoundary",
        ("iam:DeleteRolePermissionsBoundary",),
        "bounded-role",
        ELEVATE,
        "Remove the permissions boundary that keeps the role's own policies from making it "
        "an administrator.",
    ),
    _t(
        "iam-put-user-boundary",
        "PutUserPermissionsBoundary",
        ("iam:PutUserPermissionsBoundary",),
        "bounded-user",
        ELEVATE,
        "Replace the user's permissions boundary with AdministratorAccess.",
    ),
    _t(
        "iam-put-role-boundary",
        "PutRolePermissionsBoundary",
        ("iam:PutRolePermissionsBoundary",),
        "bounded-role",
        ELEVATE,
        "Replace the role's permissions boundary with AdministratorAccess.",
    ),
    _t(
        "iam-detach-user-deny",
        "DetachUserPolicy (remove a Deny)",
        ("iam:DetachUserPolicy",),
        "denied-user",
        ELEVATE,
        "Detach the managed policy whose Deny keeps the user from being an administrator.",
    ),
    _t(
        "iam-delete-user-deny",
        "DeleteUserPolicy (remove a Deny)",
        ("iam:DeleteUserPolicy",),
        "denied-user",
        ELEVATE,
        "Delete the inline policy whose Deny keeps the user from being an administrator.",
    ),
    _t(
        "iam-detach-role-deny",
        "DetachRolePolicy (remove a Deny)",
        ("iam:DetachRolePolicy",),
        "denied-role",
        ELEVATE,
        "Detach the managed policy whose Deny keeps the role from being an administrator.",
    ),
    _t(
        "iam-delete-role-deny",
        "DeleteRolePolicy (remove a Deny)",
        ("iam:DeleteRolePolicy",),
        "denied-role",
        ELEVATE,
        "Delete the inline policy whose Deny keeps the role from being an administrator.",
    ),
    # -- principal access: obtain another principal's credentials ------------------------------
    _t(
        "iam-create-access-key",
        "CreateAccessKey",
        ("iam:CreateAccessKey",),
        "user",
        ACTS_AS,
        "Create an access key for another user and act as it.",
        when_full=("iam:DeleteAccessKey",),
    ),
    _t(
        "iam-create-login-profile",
        "CreateLoginProfile",
        ("iam:CreateLoginProfile",),
        "user-without-password",
        ACTS_AS,
        "Give a user without a console password one, then sign in as it.",
    ),
    _t(
        "iam-update-login-profile",
        "UpdateLoginProfile",
        ("iam:UpdateLoginProfile",),
        "user-with-password",
        ACTS_AS,
        "Change another user's console password and sign in.",
    ),
    _t(
        "sts-assume-role",
        "AssumeRole",
        ("sts:AssumeRole",),
        "role",
        ACTS_AS,
        "Assume a role whose trust policy allows the principal.",
    ),
    _t(
        "iam-update-assume-role-policy",
        "UpdateAssumeRolePolicy",
        ("iam:UpdateAssumeRolePolicy",),
        "role",
        ACTS_AS,
        "Rewrite a role's trust policy to trust the principal, then assume it.",
    ),
    # -- pass a role to a new workload ---------------------------------------------------------
    _t(
        "ec2-run-instances",
        "PassRole + RunInstances",
        ("ec2:RunInstances",),
        "service-role:ec2",
        ACTS_AS,
        "Launch an instance with the role's instance profile and "
        "read its credentials from the instance.",
        service="ec2.amazonaws.com",
        passed_to="ec2.amazonaws.com",
    ),
    _t(
        "lambda-create-invoke",
        "PassRole + CreateFunction + InvokeFunction",
        ("lambda:CreateFunction", "lambda:InvokeFunction"),
        "service-role:lambda",
        ACTS_AS,
        "Create a function with the role and invoke it.",
        service="lambda.amazonaws.com",
        passed_to="lambda.amazonaws.com",
    ),
    _t(
        "lambda-create-event-source",
        "PassRole + CreateFunction + CreateEventSourceMapping",
        ("lambda:CreateFunction", "lambda:CreateEventSourceMapping"),
        "service-role:lambda",
        ACTS_AS,
        "Create a function with the role and trigger it from an event source.",
        service="lambda.amazonaws.com",
        passed_to="lambda.amazonaws.com",
    ),
    _t(
        "lambda-create-add-permission",
        "PassRole + CreateFunction + AddPermission",
        ("lambda:CreateFunction", "lambda:AddPermission"),
        "service-role:lambda",
        ACTS_AS,
        "Create a function with the role and grant oneself (or anyone) invoke through its "
        "resource policy.",
        service="lambda.amazonaws.com",
        passed_to="lambda.amazonaws.com",
    ),
    _t(
        "glue-create-dev-endpoint",
        "PassRole + CreateDevEndpoint",
        ("glue:CreateDevEndpoint",),
        "service-role:glue",
        ACTS_AS,
        "Create a Glue development endpoint with the role and log in to it over SSH.",
        service="glue.amazonaws.com",
        passed_to="glue.amazonaws.com",
    ),
    _t(
        "glue-create-job",
        "PassRole + CreateJob + StartJobRun",
        ("glue:CreateJob", "glue:StartJobRun"),
        "service-role:glue",
        ACTS_AS,
        "Create and run a Glue job with the role.",
        service="glue.amazonaws.com",
        passed_to="glue.amazonaws.com",
    ),
    _t(
        "cloudformation-create-stack",
        "PassRole + CreateStack",
        ("cloudformation:CreateStack",),
        "service-role:cloudformation",
        ACTS_AS,
        "Create a stack that runs with the role and creates whatever the attacker wants.",
        service="cloudformation.amazonaws.com",
        passed_to="cloudformation.amazonaws.com",
    ),
    _t(
        "datapipeline-create",
        "PassRole + CreatePipeline + PutPipelineDefinition",
        (
            "datapipeline:CreatePipeline",
            "datapipeline:PutPipelineDefinition",
            "datapipeline:ActivatePipeline",
        ),
        "service-role:datapipeline",
        ACTS_AS,
        "Create a pipeline that runs commands with the role.",
        service="datapipeline.amazonaws.com",
        passed_to="datapipeline.amazonaws.com",
    ),
    _t(
        "codebuild-create-project",
        "PassRole + CreateProject + StartBuild",
        ("codebuild:CreateProject", "codebuild:StartBuild"),
        "service-role:codebuild",
        ACTS_AS,
        "Create a build project with the role and run a build.",
        service="codebuild.amazonaws.com",
        passed_to="codebuild.amazonaws.com",
    ),
    _t(
        "sagemaker-create-notebook",
        "PassRole + CreateNotebookInstance + presigned URL",
        ("sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"),
        "service-role:sagemaker",
        ACTS_AS,
        "Create a notebook instance with the role and open it.",
        service="sagemaker.amazonaws.com",
        passed_to="sagemaker.amazonaws.com",
    ),
    _t(
        "sagemaker-create-training-job",
        "PassRole + CreateTrainingJob",
        ("sagemaker:CreateTrainingJob",),
        "service-role:sagemaker",
        ACTS_AS,
        "Run a training job whose container runs with the role.",
        service="sagemaker.amazonaws.com",
        passed_to="sagemaker.amazonaws.com",
    ),
    _t(
        "ecs-run-task",
        "PassRole + RegisterTaskDefinition + RunTask",
        ("ecs:RegisterTaskDefinition", "ecs:RunTask"),
        "service-role:ecs-tasks",
        ACTS_AS,
        "Register a task definition with the role as task role and run it.",
        service="ecs-tasks.amazonaws.com",
        passed_to="ecs-tasks.amazonaws.com",
    ),
    _t(
        "autoscaling-launch-configuration",
        "PassRole + CreateLaunchConfiguration + CreateAutoScalingGroup",
        ("autoscaling:CreateLaunchConfiguration", "autoscaling:CreateAutoScalingGroup"),
        "service-role:ec2",
        ACTS_AS,
        "Create an Auto Scaling group whose instances run with the role.",
        service="ec2.amazonaws.com",
        passed_to="ec2.amazonaws.com",
    ),
    _t(
        "autoscaling-launch-template",
        "PassRole + CreateLaunchTemplate + CreateAutoScalingGroup",
        ("ec2:CreateLaunchTemplate", "autoscaling:CreateAutoScalingGroup"),
        "service-role:ec2",
        ACTS_AS,
        "Create a launch template with the role's profile and a group that uses it.",
        service="ec2.amazonaws.com",
        passed_to="ec2.amazonaws.com",
    ),
    _t(
        "apprunner-create-service",
        "PassRole + CreateService (App Runner)",
        ("apprunner:CreateService",),
        "service-role:apprunner",
        ACTS_AS,
        "Create an App Runner service whose instances run with the role.",
        service="tasks.apprunner.amazonaws.com",
        passed_to="tasks.apprunner.amazonaws.com",
    ),
    _t(
        "bedrock-agentcore-code-interpreter",
        "PassRole + CreateCodeInterpreter + InvokeCodeInterpreter",
        (
            "bedrock-agentcore:CreateCodeInterpreter",
            "bedrock-agentcore:StartCodeInterpreterSession",
            "bedrock-agentcore:InvokeCodeInterpreter",
        ),
        "service-role:bedrock-agentcore",
        ACTS_AS,
        "Create a Bedrock AgentCore code interpreter with the role and run code in it.",
        service="bedrock-agentcore.amazonaws.com",
        passed_to="bedrock-agentcore.amazonaws.com",
    ),
    # -- use an existing workload that runs with a role ----------------------------------------
    _t(
        "lambda-update-function-code",
        "UpdateFunctionCode",
        ("lambda:UpdateFunctionCode",),
        "workload:lambda",
        ACTS_AS,
        "Replace an existing function's code; it runs with the "
        "function's role at its next invocation.",
    ),
    _t(
        "lambda-update-function-configuration",
        "UpdateFunctionConfiguration (layer)",
        ("lambda:UpdateFunctionConfiguration",),
        "workload:lambda",
        ACTS_AS,
        "Add a layer or change the handler of an existing function to run the attacker's code "
        "with its role.",
    ),
    _t(
        "glue-update-dev-endpoint",
        "UpdateDevEndpoint",
        ("glue:UpdateDevEndpoint",),
        "workload:glue-dev-endpoint",
        ACTS_AS,
        "Add an SSH key to an existing development endpoint and log in with its role.",
    ),
    _t(
        "cloudformation-update-stack",
        "UpdateStack",
        ("cloudformation:UpdateStack",),
        "workload:cloudformation",
        ACTS_AS,
        "Update a stack that runs with a service role so that it creates what the attacker wants.",
    ),
    _t(
        "cloudformation-change-set",
        "CreateChangeSet + ExecuteChangeSet",
        ("cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"),
        "workload:cloudformation",
        ACTS_AS,
        "Change a stack with a service role through a change set.",
    ),
    _t(
        "codebuild-start-build",
        "StartBuild (buildspec override)",
        ("codebuild:StartBuild",),
        "workload:codebuild",
        ACTS_AS,
        "Start a build of an existing project with an "
        "overridden buildspec that runs with the project's role.",
    ),
    _t(
        "codebuild-start-build-batch",
        "StartBuildBatch (buildspec override)",
        ("codebuild:StartBuildBatch",),
        "workload:codebuild",
        ACTS_AS,
        "Start a batch build with an overridden buildspec.",
    ),
    _t(
        "ssm-send-command",
        "SendCommand",
        ("ssm:SendCommand",),
        "workload:ec2",
        ACTS_AS,
        "Run a command on an instance and read its role's credentials.",
    ),
    _t(
        "ssm-start-session",
        "StartSession",
        ("ssm:StartSession",),
        "workload:ec2",
        ACTS_AS,
        "Open a shell on an instance and read its role's credentials.",
    ),
    _t(
        "ec2-instance-connect",
        "SendSSHPublicKey",
        ("ec2-instance-connect:SendSSHPublicKey",),
        "workload:ec2",
        ACTS_AS,
        "Push an SSH key to an instance and log in.",
    ),
    _t(
        "ec2-modify-user-data",
        "ModifyInstanceAttribute (user data)",
        ("ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances"),
        "workload:ec2",
        ACTS_AS,
        "Replace an instance's user data and restart it so that it "
        "runs the attacker's script with the instance role.",
    ),
    _t(
        "ec2-launch-template-version",
        "CreateLaunchTemplateVersion + ModifyLaunchTemplate",
        ("ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"),
        "workload:launch-template",
        ACTS_AS,
        "Make a new default version of a launch template "
        "(with the attacker's user data) that instances with a role are launched from.",
    ),
    _t(
        "sagemaker-presigned-url",
        "CreatePresignedNotebookInstanceUrl",
        ("sagemaker:CreatePresignedNotebookInstanceUrl",),
        "workload:sagemaker-notebook",
        ACTS_AS,
        "Open an existing notebook instance and use its role.",
    ),
)

BY_ID = {t.id: t for t in TECHNIQUES}
