"""Write ``pact-broker-double.json``: the Pact Broker HAL API calls that ``mock-1flow contracts
publish``, ``verify --broker-url`` and ``can-i-deploy`` make, as a Pact contract (consumer
``mock-1flow-contracts``, provider ``pact-broker``) that ``pact stub`` serves in the tests.

Written from the broker's documented API, not from a running broker (none runs here):
- index and HAL relations: https://docs.pact.io/pact_broker/advanced_topics/api_docs/index
- publish contracts (POST /contracts/publish, base64 content, notices, pb:contracts):
  pact_broker's doc/api/PublishContracts.md, as packaged in rubygem-pact_broker-doc 2.112
- pacts for verification (consumerVersionSelectors, includePendingStatus,
  includeWipPactsSince, providerVersionBranch, verificationProperties.pending):
  pact_broker's doc/api/PactsForVerification.md; https://docs.pact.io/pact_broker/advanced_topics/consumer_version_selectors
- publish verification results (success, providerApplicationVersion):
  https://docs.pact.io/pact_broker/advanced_topics/api_docs/publish_verification_result
- provider branch versions (PUT pb:branch-version) and the matrix (GET /matrix with
  q[][pacticipant], q[][version], latestby, environment; summary.deployable):
  pact_broker's doc/api/Matrix.md and the Pact Broker Client's own contract with the broker
  (pact_broker-client doc/pacts/markdown/Pact Broker Client - Pact Broker.md).
The request bodies of the branch PUT and of the verification-result POSTs (verifiedBy with
clientLanguage, testResults with mismatches) are what pact_verifier 1.4.7 (pact-python 4.2's
core) sent in a captured run; their volatile fields are matched by type.
Links are relative (a HAL href the broker clients resolve against the base URL), so the
double works on any port. Run: python tests/contract/broker/make_double.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
OUT = ROOT / "mock_1flow" / "contracts" / "pact-broker-double.json"
HAL = {"Content-Type": ["application/hal+json;charset=utf-8"]}
PROVIDER_VERSION, PROVIDER_BRANCH = "2.0.0", "main"
MAIN_PACT = "/pacts/provider/1flow-api/consumer/segment-1flow-destination/pact-version/main"
PENDING_PACT = "/pacts/provider/1flow-api/consumer/segment-1flow-destination/pact-version/feature-nps"


def body(content: Any) -> dict[str, Any]:
    return {"content": content, "contentType": "application/json", "encoded": False}


def interaction(description: str, request: dict[str, Any], status: int, response: Any,
                state: str | None = None, request_rules: dict[str, Any] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "Synchronous/HTTP", "description": description, "request": request,
                            "response": {"status": status, "headers": HAL, "body": body(response)}}
    if state:
        item["providerStates"] = [{"name": state}]
    if request_rules:
        item["request"]["matchingRules"] = {"body": {path: {"combine": "AND", "matchers": matchers}
                                                     for path, matchers in request_rules.items()}}
    return item


TYPE = [{"match": "type"}]


def destination_pact(links: dict[str, Any], pending_interaction: bool) -> dict[str, Any]:
    """A small pact of the destination as the broker serves it (with its _links): the main
    branch's passes against the mock; the feature branch's expects a 201 the API never sends."""
    source = json.loads((ROOT / "contracts" / "segment-1flow-destination-1flow-api.json").read_text(encoding="utf-8"))
    chosen = [i for i in source["interactions"] if i["description"] == "add a user with an unknown key"]
    if pending_interaction:
        new = json.loads(json.dumps(chosen[0]))
        new["description"] = "add a user with an unknown key answers 201 (a feature branch's wish)"
        new["response"]["status"] = 201
        new.pop("key", None)
        chosen = [new]
    return {"consumer": source["consumer"], "provider": source["provider"], "interactions": chosen,
            "metadata": {"pactSpecification": {"version": "4.0"}}, "_links": links}


def pact_links(path: str) -> dict[str, Any]:
    return {"self": {"href": path}, "pb:provider": {"href": "/pacticipants/1flow-api"},
            "pb:publish-verification-results": {"href": f"{path}/verification-results"}}


def build() -> dict[str, Any]:
    index = {"_links": {
        "pb:publish-contracts": {"href": "/contracts/publish", "title": "Publish contracts"},
        "pb:provider-pacts-for-verification": {"href": "/pacts/provider/{provider}/for-verification", "templated": True},
        "pb:pacticipant": {"href": "/pacticipants/{pacticipant}", "templated": True},
        "pb:matrix": {"href": "/matrix"}}}
    publish_request = {
        "method": "POST", "path": "/contracts/publish", "headers": {"Content-Type": ["application/json"]},
        "body": body({"pacticipantName": "segment-1flow-destination", "pacticipantVersionNumber": "1.0.0",
                      "branch": "main", "tags": ["main"],
                      "contracts": [{"consumerName": "segment-1flow-destination", "providerName": "1flow-api",
                                     "specification": "pact", "contentType": "application/json",
                                     "content": "eyJjb25zdW1lciI6e319", "onConflict": "overwrite"}]})}
    # Version and branch are exact (a command that sends others gets the stub's 404); the
    # contracts' names and content are matched by type and base64 shape.
    publish_rules = {"$.tags": [{"match": "type", "min": 1}], "$.tags[*]": TYPE,
                     "$.pacticipantName": TYPE, "$.contracts": [{"match": "type", "min": 1}],
                     "$.contracts[*].consumerName": TYPE, "$.contracts[*].onConflict": TYPE, "$.contracts[*].providerName": TYPE,
                     "$.contracts[*].content": [{"match": "regex", "regex": "^[A-Za-z0-9+/]+={0,2}$"}]}
    untagged = json.loads(json.dumps(publish_request))  # the pact CLI sends no tags key without --tag
    del untagged["body"]["content"]["tags"]
    published = {
        "notices": [{"type": "success", "text": "Pact successfully published for segment-1flow-destination version 1.0.0 and provider 1flow-api."}],
        "_embedded": {"pacticipant": {"name": "segment-1flow-destination"}, "version": {"number": "1.0.0"}},
        "_links": {"pb:pacticipant-version": {"href": "/pacticipants/segment-1flow-destination/versions/1.0.0"},
                   "pb:contracts": [{"href": "/pacts/provider/1flow-api/consumer/segment-1flow-destination/version/1.0.0",
                                     "title": "Pact", "name": "Pact between segment-1flow-destination and 1flow-api"}]}}
    def for_verification(description: str, wip: bool, branch: bool, answer: Any) -> dict[str, Any]:
        """Pact has no optional keys in a request body, so each shape the verifier sends
        (with or without includeWipPactsSince, providerVersionBranch) is its own interaction."""
        sent: dict[str, Any] = {"consumerVersionSelectors": [{"mainBranch": True}], "includePendingStatus": True}
        rules: dict[str, Any] = {"$.consumerVersionSelectors": [{"match": "type", "min": 1 if wip else 0}],
                                 "$.includePendingStatus": TYPE}
        if wip:
            sent["includeWipPactsSince"] = "2026-01-01"
            rules["$.includeWipPactsSince"] = [{"match": "regex", "regex": r"^\d{4}-\d{2}-\d{2}$"}]
        if branch:
            sent["providerVersionBranch"] = PROVIDER_BRANCH  # exact: another branch gets the stub's 404
        return interaction(description, {"method": "POST", "path": "/pacts/provider/1flow-api/for-verification",
                                         "headers": {"Content-Type": ["application/json"]}, "body": body(sent)},
                           200, answer, state="a main-branch pact and a pending feature-branch pact", request_rules=rules)

    pacts = {"_embedded": {"pacts": [
        {"shortDescription": "latest from segment-1flow-destination's main branch",
         "verificationProperties": {"pending": False, "notices": [
             {"when": "before_verification", "text": "The pact at ... is being verified because it matches the consumer version selector {\"mainBranch\": true}"}]},
         "_links": {"self": {"href": MAIN_PACT, "name": "Pact between segment-1flow-destination (1.0.0) and 1flow-api"}}},
        {"shortDescription": "latest from segment-1flow-destination's feature-nps branch (work in progress)",
         "verificationProperties": {"pending": True, "wip": True, "notices": [
             {"when": "before_verification", "text": "This pact is pending: a failure will not fail the build."}]},
         "_links": {"self": {"href": PENDING_PACT, "name": "Pact between segment-1flow-destination (1.1.0-feature-nps) and 1flow-api"}}}]},
        "_links": {"self": {"href": "/pacts/provider/1flow-api/for-verification"}}}
    main_only = {"_embedded": {"pacts": pacts["_embedded"]["pacts"][:1]}, "_links": pacts["_links"]}
    # What pact_verifier 1.4.7 (pact-python 4.2's core) POSTs, captured from a run: the provider
    # version is exact (another version gets the stub's 404), the rest matched by type.
    verified_by = {"clientLanguage": {"name": "pact-python", "testFramework": "pact_ffi", "version": "0.5.12.1"},
                   "implementation": "Pact-Rust", "version": "1.4.7"}
    results_rules = {"$.verifiedBy.clientLanguage.name": TYPE, "$.verifiedBy.clientLanguage.testFramework": TYPE,
                     "$.verifiedBy.clientLanguage.version": TYPE, "$.verifiedBy.implementation": TYPE,
                     "$.verifiedBy.version": TYPE}
    failure_rules = {"$.testResults": [{"match": "type", "min": 1}], "$.testResults[*].interactionDescription": TYPE,
                     "$.testResults[*].interactionId": TYPE, "$.testResults[*].mismatches": [{"match": "type", "min": 1}],
                     "$.testResults[*].mismatches[*].attribute": TYPE, "$.testResults[*].mismatches[*].description": TYPE}

    def results(path: str, success: bool) -> dict[str, Any]:
        """The main pact passes (no test results listed); the pending one fails on its status."""
        tests = [] if success else [{"interactionDescription": "add a user with an unknown key answers 201 (a feature branch's wish)",
                                     "interactionId": "", "success": False,
                                     "mismatches": [{"attribute": "status", "description": "expected 201 but was 404"}]}]
        return interaction(
            f"publish a verification result for {path.rsplit('/', 1)[-1]}",
            {"method": "POST", "path": f"{path}/verification-results", "headers": {"Content-Type": ["application/json"]},
             "body": body({"success": success, "providerApplicationVersion": PROVIDER_VERSION, "testResults": tests,
                           "verifiedBy": verified_by})},
            201, {"success": success, "providerApplicationVersion": PROVIDER_VERSION,
                  "_links": {"self": {"href": f"{path}/verification-results/1"}}},
            state=f"provider version {PROVIDER_VERSION} verifies", request_rules={**results_rules, **({} if success else failure_rules)})

    def matrix(pacticipant: str, version: str, environment: str, status: int, answer: Any, state: str) -> dict[str, Any]:
        return interaction(
            f"the matrix for {pacticipant} {version} and {environment}",
            {"method": "GET", "path": "/matrix",
             "query": {"q[][pacticipant]": [pacticipant], "q[][version]": [version], "latestby": ["cvpv"],
                       "environment": [environment]}}, status, answer, state=state)

    def row(success: bool | None, provider_version: str) -> dict[str, Any]:
        verification = None if success is None else {"success": success, "verifiedAt": "2026-12-01T10:00:00+00:00",
                                                      "_links": {"self": {"href": f"{MAIN_PACT}/verification-results/1"}}}
        return {"consumer": {"name": "segment-1flow-destination", "version": {"number": "1.0.0"}},
                "provider": {"name": "1flow-api", "version": {"number": provider_version}},
                "pact": {"createdAt": "2026-12-01T09:00:00+00:00"}, "verificationResult": verification}

    yes = {"summary": {"deployable": True, "reason": "All required verification results are published and successful",
                       "success": 1, "failed": 0, "unknown": 0},
           "notices": [{"type": "success", "text": "All required verification results are published and successful"}],
           "matrix": [row(True, PROVIDER_VERSION)]}
    no = {"summary": {"deployable": False, "reason": "The verification for the pact between segment-1flow-destination 1.1.0 and 1flow-api 2.0.0 failed",
                      "success": 0, "failed": 1, "unknown": 0},
          "notices": [{"type": "error", "text": "The verification for the pact between segment-1flow-destination 1.1.0 and 1flow-api 2.0.0 failed"}],
          "matrix": [{**row(False, PROVIDER_VERSION), "consumer": {"name": "segment-1flow-destination", "version": {"number": "1.1.0"}}}]}
    interactions = [
        interaction("the index", {"method": "GET", "path": "/"}, 200, index),
        interaction("the index without valid credentials", {"method": "GET", "path": "/locked"}, 401,
                    {"error": "Unauthorized: send a valid Authorization header"}, state="a broker that needs credentials"),
        interaction("publish contracts with tags", publish_request, 200, published, request_rules=publish_rules),
        interaction("publish contracts without tags", untagged, 200, published, request_rules=publish_rules),
        interaction("the pacts-for-verification relation", {"method": "GET", "path": "/pacts/provider/1flow-api/for-verification"},
                    200, {"_links": {"self": {"href": "/pacts/provider/1flow-api/for-verification"}}}),
        for_verification("pacts for verification with selectors, pending and WIP pacts", True, True, pacts),
        for_verification("pacts for verification with selectors and the provider branch", False, True, main_only),
        for_verification("pacts for verification with selectors", False, False, main_only),
        interaction("the main branch's pact", {"method": "GET", "path": MAIN_PACT}, 200, destination_pact(pact_links(MAIN_PACT), False)),
        interaction("the feature branch's pending pact", {"method": "GET", "path": PENDING_PACT}, 200,
                    destination_pact(pact_links(PENDING_PACT), True)),
        interaction("the provider", {"method": "GET", "path": "/pacticipants/1flow-api"}, 200,
                    {"name": "1flow-api", "_links": {"pb:branch-version": {
                        "href": "/pacticipants/1flow-api/branches/{branch}/versions/{version}", "templated": True}}}),
        interaction(f"record provider version {PROVIDER_VERSION} on branch {PROVIDER_BRANCH}",
                    {"method": "PUT", "path": f"/pacticipants/1flow-api/branches/{PROVIDER_BRANCH}/versions/{PROVIDER_VERSION}",
                     "headers": {"Content-Type": ["application/json"]}, "body": body({})}, 200,
                    {"_links": {"self": {"href": f"/pacticipants/1flow-api/branches/{PROVIDER_BRANCH}/versions/{PROVIDER_VERSION}"}}}),
        results(MAIN_PACT, True),
        results(PENDING_PACT, False),
        matrix("segment-1flow-destination", "1.0.0", "production", 200, yes, "1.0.0 verified by the provider in production"),
        matrix("segment-1flow-destination", "1.1.0", "production", 200, no, "1.1.0 failed verification"),
        matrix("nobody", "1.0.0", "production", 400, {"errors": {"q": ["Pacticipant with name 'nobody' not found"]}},
               "no pacticipant named nobody"),
    ]
    return {"consumer": {"name": "mock-1flow-contracts"}, "provider": {"name": "pact-broker"}, "interactions": interactions,
            "metadata": {"pactSpecification": {"version": "4.0"}}}


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(OUT)
