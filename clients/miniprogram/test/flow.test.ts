// The member flow through the SDK against a live server (started by tests/sdk/test_sdk_flow.py,
// which passes WXC_BASE_URL, WXC_FLOW and WXC_OPENAPI). Every 2xx answer is validated against
// its response schema in openapi.yaml.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { ApiError, createClient, fetchTransport, isApiError, OPERATIONS, type OperationId, type Schemas } from "../src/index.js";

interface Flow {
  invite_code: string;
  community_id: string;
  polls: Record<"single" | "multiple" | "ranked" | "score" | "proposal" | "time", string>;
  survey_id: string;
  event_id: string;
}

const baseUrl = process.env.WXC_BASE_URL;
const flowJson = process.env.WXC_FLOW;
const openapiPath = process.env.WXC_OPENAPI;

// --- schema validation of every answer ------------------------------------------------------------
/** OpenAPI 3.0's `nullable: true` as JSON Schema: `anyOf: [schema, {type: "null"}]` (ajv's own
 * `nullable` support needs a `type` next to it, which `allOf: [$ref]` fields lack). */
function withJsonSchemaNulls(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withJsonSchemaNulls);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = withJsonSchemaNulls(value);
  if (out.nullable === true) {
    delete out.nullable;
    return { anyOf: [out, { type: "null" }] };
  }
  return out;
}

function responseValidator(specPath: string) {
  const spec = parse(readFileSync(specPath, "utf8")) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };
  // OpenAPI 3.0 schemas: `nullable` is understood by ajv; `discriminator` mappings are not, and the
  // oneOf branches are told apart by their `kind` enums anyway.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // drf-spectacular's DecimalField strings carry a `pattern` already; `double` is a number.
  ajv.addFormat("decimal", true).addFormat("double", true);
  ajv.addSchema(withJsonSchemaNulls(spec) as object, "openapi.json");
  const cache = new Map<string, ValidateFunction>();
  const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
  return (op: OperationId, status: number, data: unknown): void => {
    const { method, path } = OPERATIONS[op];
    const response = spec.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
    assert.ok(response, `${op} answered ${status}, which the contract does not list`);
    if (!response.content) {
      assert.equal(data === undefined || data === "", true, `${op} ${status} has no documented body`);
      return;
    }
    if (!("application/json" in response.content)) return; // files (calendar, QR images)
    const key = `${op} ${status}`;
    let validate = cache.get(key);
    if (!validate) {
      const ref = "openapi.json#/" + pointer("paths", path, method.toLowerCase(), "responses", String(status), "content", "application/json", "schema");
      validate = ajv.compile({ $ref: ref });
      cache.set(key, validate);
    }
    assert.ok(validate(data), `${op} ${status} does not match its schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(data).slice(0, 2000)}`);
    validated.push(op);
  };
}

const validated: OperationId[] = [];

test("the member flow through the SDK", { skip: !baseUrl || !flowJson || !openapiPath ? "run from tests/sdk/test_sdk_flow.py" : false }, async (t) => {
  const flow = JSON.parse(flowJson!) as Flow;
  let logins = 0;
  const validate = responseValidator(openapiPath!);
  // The validator can fail: a poll without its required fields does not pass.
  assert.throws(() => validate("getPoll", 200, { id: "x" }), /does not match its schema/);
  const api = createClient({
    baseUrl: baseUrl!,
    transport: fetchTransport(),
    loginCode: async () => `flow-code-${++logins}`,
    onResponse: validate,
    backoff: () => 50,
  });

  await t.test("login with a wx.login code", async () => {
    const signedIn = await api.login();
    assert.ok(signedIn.token.length > 20);
    assert.equal(await api.tokens.get(), signedIn.token);
    await api.call("getApiIndex");
    await api.call("getMyProfile");
  });

  let communityId = "";
  await t.test("join by invite and accept the rules", async () => {
    const joined = await api.call("joinByInvite", { body: { invite_code: flow.invite_code } });
    communityId = joined.community.id;
    assert.equal(communityId, flow.community_id);
    assert.equal(joined.membership.rules_accepted, false);
    const accepted = await api.call("acceptGroupRules", {
      path: { community_id: communityId },
      body: { version: joined.community.rules_version },
    });
    assert.equal(accepted.rules_accepted, true);
    const mine = await api.call("listMyCommunities");
    assert.ok(mine.results.some((c) => c.community.id === communityId));
  });

  await t.test("vote in every poll kind", async () => {
    const listed = await api.call("listPolls", { path: { community_id: communityId } });
    assert.equal(listed.results.length, 6);
    for (const [kind, pollId] of Object.entries(flow.polls)) {
      const poll = await api.call("getPoll", { path: { poll_id: pollId } });
      assert.equal(poll.kind, kind);
      const ids = poll.options.map((o) => o.id);
      const ballot = ballotFor(poll, ids);
      await api.call("castBallot", { path: { poll_id: pollId }, body: ballot });
      const again = await api.call("getPoll", { path: { poll_id: pollId } });
      assert.equal(again.voted, true, `${kind}: voted`);
      await api.call("getMyBallot", { path: { poll_id: pollId } });
      await api.call("getPollPage", { path: { poll_id: pollId } });
    }
    await api.call("listMyOpenPolls");
  });

  await t.test("change a vote", async () => {
    const pollId = flow.polls.single;
    const poll = await api.call("getPoll", { path: { poll_id: pollId } });
    const last = poll.options[poll.options.length - 1]!.id;
    const changed = await api.call("castBallot", { path: { poll_id: pollId }, body: { kind: "single", option_ids: [last] } });
    assert.ok(JSON.stringify(changed).includes(last));
    const mine = await api.call("getMyBallot", { path: { poll_id: pollId } });
    assert.ok(JSON.stringify(mine).includes(last));
    const results = await api.call("getPollResults", { path: { poll_id: pollId } });
    assert.ok(results);
  });

  await t.test("answer a survey", async () => {
    const surveys = await api.call("listCommunitySurveys", { path: { community_id: communityId } });
    assert.ok(surveys.results.some((s) => s.id === flow.survey_id));
    const survey = await api.call("getSurvey", { path: { survey_id: flow.survey_id } });
    const answers: Record<string, unknown> = {};
    for (const q of survey.questions) answers[q.id] = answerFor(q);
    await api.call("submitResponse", { path: { survey_id: flow.survey_id }, body: { answers } });
    await api.call("getMyResponse", { path: { survey_id: flow.survey_id } });
    // A second submit is a typed error whose code is one of submitResponse's documented codes.
    try {
      await api.call("submitResponse", { path: { survey_id: flow.survey_id }, body: { answers } });
      assert.fail("a second submit must fail");
    } catch (error) {
      assert.ok(isApiError(error, "submitResponse"), String(error));
      validate("submitResponse", error.status, error.body);
      switch (error.code) {
        case "already_submitted":
          assert.equal(error.status, 409);
          break;
        default:
          assert.fail(`unexpected code ${error.code}`);
      }
    }
  });

  await t.test("sign up for an event", async () => {
    const listed = await api.call("listEvents", { path: { community_id: communityId } });
    assert.ok(listed.results.some((e) => e.id === flow.event_id));
    await api.call("getEvent", { path: { event_id: flow.event_id } });
    const registration = await api.call("signUpForEvent", { path: { event_id: flow.event_id }, body: { guests: 1, note: "带孩子" } });
    assert.equal(registration.guests, 1);
    await api.call("getMyRegistration", { path: { event_id: flow.event_id } });
  });

  await t.test("download my ticket's QR code and the event's calendar file", async () => {
    const png: ArrayBuffer = await api.call("getMyTicketQr", { path: { event_id: flow.event_id } });
    assert.ok(png instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(png.slice(0, 8))], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const ics: string = await api.call("downloadEventCalendar", { path: { event_id: flow.event_id } });
    assert.ok(ics.startsWith("BEGIN:VCALENDAR"), ics.slice(0, 40));
    assert.match(ics, /BEGIN:VEVENT/);
    const feed: string = await api.call("downloadCommunityCalendar", { path: { community_id: communityId } });
    assert.ok(feed.startsWith("BEGIN:VCALENDAR"));
    // an error answer to a file request is our JSON error shape, typed like any other
    await assert.rejects(
      api.call("getEventDoorCodeQr", { path: { event_id: flow.event_id } }),
      (error: unknown) => isApiError(error, "getEventDoorCodeQr") && error.status === 403 && typeof error.code === "string",
    );
  });

  await t.test("a revoked token is renewed silently through wx.login", async () => {
    const before = logins;
    const oldToken = await api.tokens.get();
    await api.call("logout");
    const profile = await api.call("getMyProfile");
    assert.ok(profile);
    assert.equal(logins, before + 1);
    assert.notEqual(await api.tokens.get(), oldToken);
  });

  await t.test("errors are typed ApiErrors", async () => {
    await assert.rejects(api.call("getPoll", { path: { poll_id: "nope" } }), (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, 404);
      assert.equal(error.code, "not_found");
      validate("getPoll", error.status, error.body);
      return true;
    });
  });

  assert.ok(validated.length > 25, `validated ${validated.length} answers`);
});

function ballotFor(poll: Schemas["PollDetailOut"], ids: string[]): Schemas["BallotInRequest"] {
  switch (poll.kind) {
    case "single":
      return { kind: "single", option_ids: [ids[0]!] };
    case "multiple":
      return { kind: "multiple", option_ids: ids.slice(0, 2) };
    case "ranked":
      return { kind: "ranked", ranking: [...ids].reverse() };
    case "score":
      return { kind: "score", scores: Object.fromEntries(ids.map((id, i) => [id, Math.min((poll.min_score ?? 0) + i, poll.max_score ?? 5)])) };
    case "proposal":
      return { kind: "proposal", position: "agree", reason: "同意" };
    case "time":
      return { kind: "time", answers: Object.fromEntries(ids.map((id, i) => [id, (["yes", "if_need_be", "no"] as const)[i % 3]!])) };
  }
}

function answerFor(q: Schemas["QuestionOut"]): unknown {
  switch (q.type) {
    case "single_choice":
      return { choice: q.choices[0]!.id };
    case "rating":
      return q.scale_max ?? 5;
    default:
      return "因为好玩";
  }
}
