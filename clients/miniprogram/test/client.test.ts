// The hand-written layer without a server: retries, silent re-login, the wx adapters, and (at
// compile time, through @ts-expect-error) that the contract's types reject wrong calls.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, createClient, isApiError, wxDownloader, wxLogin, wxTransport, type Transport, type TransportRequest, type WxLike } from "../src/index.js";

function scripted(answers: Array<{ status: number; data?: unknown } | "network">): { transport: Transport; seen: TransportRequest[] } {
  const seen: TransportRequest[] = [];
  const transport: Transport = async (request) => {
    seen.push(request);
    const next = answers.shift();
    assert.ok(next, `unexpected request ${request.method} ${request.url}`);
    if (next === "network") throw new (await import("../src/index.js")).NetworkError("offline");
    return { status: next.status, data: next.data };
  };
  return { transport, seen };
}

const busy = { status: 503, data: { type: "server_error", errors: [{ code: "service_unavailable", detail: "busy", attr: null }] } };

test("idempotent operations (GET, PUT, DELETE) are retried after 503 and network errors", async () => {
  const { transport, seen } = scripted([busy, "network", { status: 200, data: { id: "p1" } }]);
  const api = createClient({ baseUrl: "https://h", transport, backoff: () => 0 });
  const poll = await api.call("getPoll", { path: { poll_id: "p1" } });
  assert.equal(poll.id, "p1");
  assert.equal(seen.length, 3);
  assert.equal(seen[0]!.url, "https://h/api/v1/polls/p1");
});

test("a POST is never retried: a second attempt could act twice", async () => {
  const { transport, seen } = scripted([busy]);
  const api = createClient({ baseUrl: "https://h", transport, backoff: () => 0 });
  await assert.rejects(api.call("submitResponse", { path: { survey_id: "s1" }, body: { answers: {} } }), (e: unknown) => e instanceof ApiError && e.status === 503);
  assert.equal(seen.length, 1);
});

test("retries stop after `retries` extra attempts", async () => {
  const { transport, seen } = scripted([busy, busy, busy]);
  const api = createClient({ baseUrl: "https://h", transport, retries: 2, backoff: () => 0 });
  await assert.rejects(api.call("getMyProfile"));
  assert.equal(seen.length, 3);
});

test("a 401 logs in again once through wx.login and replays the request with the new token", async () => {
  const unauthorized = { status: 401, data: { type: "client_error", errors: [{ code: "not_authenticated", detail: "", attr: null }] } };
  const { transport, seen } = scripted([
    unauthorized,
    unauthorized,
    { status: 200, data: { token: "fresh", expires_at: "", user: {} } },
    { status: 200, data: { id: "a" } },
    { status: 200, data: { id: "b" } },
  ]);
  let codes = 0;
  const api = createClient({ baseUrl: "https://h", transport, loginCode: async () => `code-${++codes}` });
  await api.tokens.set("expired");
  // Two calls meet the expired token together: one login serves both.
  const [a, b] = await Promise.all([api.call("getPoll", { path: { poll_id: "a" } }), api.call("getPoll", { path: { poll_id: "b" } })]);
  assert.deepEqual([a.id, b.id].sort(), ["a", "b"]);
  assert.equal(codes, 1);
  assert.equal(seen[2]!.url, "https://h/api/v1/auth/wechat");
  assert.deepEqual(seen[2]!.body, { code: "code-1" });
  assert.equal(seen[2]!.headers.Authorization, undefined);
  assert.equal(seen[3]!.headers.Authorization, "Bearer fresh");
  assert.equal(seen[0]!.headers.Authorization, "Bearer expired");
});

test("typed errors carry the operation's code", async () => {
  const { transport } = scripted([{ status: 409, data: { type: "client_error", errors: [{ code: "already_submitted", detail: "x", attr: null }] } }]);
  const api = createClient({ baseUrl: "https://h", transport });
  try {
    await api.call("submitResponse", { path: { survey_id: "s" }, body: { answers: {} } });
    assert.fail("must reject");
  } catch (error) {
    assert.ok(isApiError(error, "submitResponse"));
    assert.equal(error.code, "already_submitted");
    const known: typeof error.code = "already_submitted";
    // @ts-expect-error: "poll_closed" is not a code submitResponse can answer.
    const unknownCode: typeof error.code = "poll_closed";
    assert.notEqual(known, unknownCode);
  }
});

test("the wx adapters call wx.request and wx.login", async () => {
  const calls: unknown[] = [];
  const wx: WxLike = {
    request(options) {
      calls.push(options);
      options.success({ statusCode: 200, data: { id: "p" } });
    },
    login(options) {
      options.success({ code: "wx-code" });
    },
  };
  const api = createClient({ baseUrl: "https://h/", transport: wxTransport(wx), loginCode: wxLogin(wx), language: "en" });
  await api.call("listPolls", { path: { community_id: "c" }, query: { cursor: "x y" } });
  const sent = calls[0] as { url: string; method: string; header: Record<string, string> };
  assert.equal(sent.url, "https://h/api/v1/communities/c/polls?cursor=x%20y");
  assert.equal(sent.method, "GET");
  assert.equal(sent.header["Accept-Language"], "en");
  assert.equal(await wxLogin(wx)(), "wx-code");
});

// Compile-time checks: `tsc` fails if any of these lines type-checks.
export async function wrongCalls(api: ReturnType<typeof createClient>): Promise<void> {
  // @ts-expect-error: a ballot needs its kind and its choice.
  await api.call("castBallot", { path: { poll_id: "p" }, body: {} });
  // @ts-expect-error: a single-choice ballot has option_ids, not a ranking.
  await api.call("castBallot", { path: { poll_id: "p" }, body: { kind: "single", ranking: [] } });
  // @ts-expect-error: getPoll needs its path parameter.
  await api.call("getPoll");
  // @ts-expect-error: no such operation.
  await api.call("pollsBallotUpdate");
}

test("files: wx.request reads an image as an ArrayBuffer, its JSON error as our error shape", async () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer;
  const error = new TextEncoder().encode(JSON.stringify({ type: "client_error", errors: [{ code: "no_ticket", detail: "无", attr: null }] })).buffer;
  const calls: Array<{ responseType?: string; dataType?: string }> = [];
  const answers = [{ statusCode: 200, data: png as unknown }, { statusCode: 404, data: error as unknown }];
  const wx: WxLike = {
    request(options) {
      calls.push({ responseType: options.responseType, dataType: options.dataType });
      options.success(answers.shift()!);
    },
    login: (o) => o.success({ code: "c" }),
  };
  const api = createClient({ baseUrl: "https://h", transport: wxTransport(wx) });
  const bytes: ArrayBuffer = await api.call("getMyTicketQr", { path: { event_id: "e1" } });
  assert.deepEqual([...new Uint8Array(bytes)], [0x89, 0x50, 0x4e, 0x47]);
  assert.deepEqual(calls[0], { responseType: "arraybuffer", dataType: "其他" });
  await assert.rejects(api.call("getMyTicketQr", { path: { event_id: "e1" } }), (e: unknown) => isApiError(e, "getMyTicketQr") && e.code === "no_ticket");
});

test("files: a calendar is text, and downloadFile fetches an image with wx.downloadFile", async () => {
  const { transport, seen } = scripted([{ status: 200, data: "BEGIN:VCALENDAR\r\n" }]);
  const downloads: Array<{ url: string; header: Record<string, string> }> = [];
  const downloader = wxDownloader({
    downloadFile(options) {
      downloads.push({ url: options.url, header: options.header });
      options.success({ statusCode: 200, tempFilePath: "wxfile://tmp/qr.png" });
    },
  });
  const api = createClient({ baseUrl: "https://h", transport, downloader, tokens: { get: () => "t0", set: () => {} } });
  const ics: string = await api.call("downloadEventCalendar", { path: { event_id: "e1" } });
  assert.ok(ics.startsWith("BEGIN:VCALENDAR"));
  assert.equal(seen[0]!.responseType, "text");
  assert.equal(await api.downloadFile("getMyTicketQr", { path: { event_id: "e1" } }), "wxfile://tmp/qr.png");
  assert.deepEqual(downloads, [{ url: "https://h/api/v1/events/e1/ticket/qr", header: { Authorization: "Bearer t0" } }]);
  // @ts-expect-error a JSON operation is not a file to download
  void (() => api.downloadFile("getPoll", { path: { poll_id: "p" } }));
});
