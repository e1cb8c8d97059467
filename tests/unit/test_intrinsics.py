"""The template's intrinsic functions, evaluated for parameters alone (the tests) or against a stack
(the local stack): what CloudFormation would deploy, and nothing guessed."""

from __future__ import annotations

from emulator.intrinsics import Intrinsics

TEMPLATE = {
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
    }
}
FRAGMENT = {
    "Name": {"Fn::Sub": "app-${Stage}-${AWS::Region}"},
    "Queue": {"Fn::Sub": "${Queue.Arn}/x"},
    "Joined": {"Fn::Join": ["/", [{"Ref": "Bucket"}, "runs"]]},
    "Alarm": {"Fn::If": ["IsProd", "page", {"Ref": "AWS::NoValue"}]},
    "Items": [{"Fn::If": ["NotProd", "debug", {"Ref": "AWS::NoValue"}]}, "always"],
}


def test_parameters_alone_resolve_what_they_determine_and_leave_resources_as_written():
    resolved = Intrinsics(TEMPLATE, {"Stage": "dev", "AWS::Region": "eu-west-1"})(FRAGMENT)
    assert resolved == {
        "Name": "app-dev-eu-west-1",
        "Queue": {"Fn::Sub": "${Queue.Arn}/x"},
        "Joined": {"Fn::Join": ["/", [{"Ref": "Bucket"}, "runs"]]},
        "Items": ["debug", "always"],  # AWS::NoValue leaves the property or the item out
    }


def test_against_a_stack_resources_resolve_to_their_physical_ids_and_attributes():
    def arn(logical_id: str, attribute: str) -> str:
        return f"arn:aws:sqs:eu-west-1:123456789012:{logical_id}-{attribute}"

    stack = Intrinsics(TEMPLATE, {"Stage": "prod", "AWS::Region": "eu-west-1"}, {"Queue": "q", "Bucket": "b-123"}, arn)
    resolved = stack(FRAGMENT)
    assert resolved["Queue"] == "arn:aws:sqs:eu-west-1:123456789012:Queue-Arn/x"
    assert resolved["Joined"] == "b-123/runs"
    assert (resolved["Alarm"], resolved["Items"]) == ("page", ["always"])
    assert (stack.condition("IsProd"), stack.condition("NotProd")) == (True, False)
