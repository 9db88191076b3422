"""Secret-bearing fields never reach a snapshot: only whether they were there."""

from __future__ import annotations

from mamori.inventory.collectors._items import without_secrets, without_user_data


def test_nested_secret_fields_are_replaced_by_flags() -> None:
    project = {
        "name": "build",
        "serviceRole": "arn:aws:iam::111122223333:role/build",
        "environment": {
            "image": "aws/codebuild/standard:7.0",
            "environmentVariables": [{"name": "TOKEN", "value": "s3cr3t", "type": "PLAINTEXT"}],
        },
    }
    clean = without_secrets(project)
    assert "s3cr3t" not in repr(clean)
    assert clean["environment"] == {
        "image": "aws/codebuild/standard:7.0",
        "_has_environment_variables": True,
    }
    assert clean["serviceRole"] == project["serviceRole"]


def test_stack_parameters_outputs_and_job_arguments() -> None:
    stack = {
        "StackName": "s",
        "Parameters": [{"ParameterKey": "DbPassword", "ParameterValue": "hunter2"}],
        "Outputs": [],
    }
    job = {"Name": "etl", "Role": "r", "DefaultArguments": {"--password": "pw"}}
    assert without_secrets(stack) == {
        "StackName": "s",
        "_has_parameters": True,
        "_has_outputs": False,
    }
    assert without_secrets(job) == {"Name": "etl", "Role": "r", "_has_default_arguments": True}


def test_launch_data_always_says_whether_it_has_user_data() -> None:
    assert without_user_data({"ImageId": "ami-1"}) == {"ImageId": "ami-1", "_has_user_data": False}
    assert without_user_data({"UserData": "IyEvYmlu"})["_has_user_data"] is True
