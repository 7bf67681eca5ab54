/**
 * The hand-written layer over the generated types: one typed `call(operationId, ...)`, the
 * bearer token, silent re-login on 401, typed errors and retries of idempotent operations.
 * It knows nothing of `wx`: the mini-program passes `wx` in through `wxTransport`/`wxLogin`,
 * Node tests pass a fetch-based transport.
 */
import type { components, operations } from "./generated/schema.js";
import { OPERATIONS } from "./generated/operations.js";

export type { components, operations };
export type Schemas = components["schemas"];
export type OperationId = keyof operations;

// --- transport ---------------------------------------------------------------------------------
export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE" | "PATCH";

export interface TransportRequest {
  url: string;
  method: HttpMethod;
  headers: Record<string, string>;
  /** Serialized by the transport as JSON when present. */
  body?: unknown;
  /** How to read a 2xx body: JSON (default), text (`text/calendar`) or bytes (`image/png`). */
  responseType?: "json" | "text" | "arraybuffer";
}

export interface TransportResponse {
  status: number;
  /** Parsed JSON when the answer is JSON, else the text (an `ArrayBuffer` for `arraybuffer`). */
  data: unknown;
}

/** Sends one request; rejects only when no answer came (network, timeout). */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/** The part of the mini-program's `wx` object the SDK uses. */
export interface WxLike {
  request(options: {
    url: string;
    method: HttpMethod;
    header: Record<string, string>;
    data?: unknown;
    dataType?: "json" | "其他";
    responseType?: "text" | "arraybuffer";
    success(result: { statusCode: number; data: unknown; header?: Record<string, string> }): void;
    fail(error: { errMsg: string }): void;
  }): unknown;
  /** Only for `wxDownloader`: WeChat's way to fetch an image into a temporary file. */
  downloadFile?(options: {
    url: string;
    header: Record<string, string>;
    success(result: { statusCode: number; tempFilePath: string }): void;
    fail(error: { errMsg: string }): void;
  }): unknown;
  login(options: { success(result: { code: string }): void; fail(error: { errMsg: string }): void }): unknown;
}

/** `wx.request` as a transport: `createClient({ transport: wxTransport(wx), ... })`. Files come
 * back as an `ArrayBuffer` (`responseType: 'arraybuffer'`) or as text; an error answer to such a
 * request (our JSON error shape) is decoded and parsed, so `ApiError` works the same. */
export function wxTransport(wx: WxLike): Transport {
  return (request) =>
    new Promise((resolve, reject) => {
      const file = request.responseType === "arraybuffer" || request.responseType === "text";
      wx.request({
        url: request.url,
        method: request.method,
        header: request.headers,
        data: request.body,
        dataType: file ? "其他" : "json",
        ...(request.responseType === "arraybuffer" ? { responseType: "arraybuffer" as const } : {}),
        success: (result) => {
          let data = result.data;
          if (file && (result.statusCode < 200 || result.statusCode >= 300)) data = parseErrorBody(data);
          resolve({ status: result.statusCode, data });
        },
        fail: (error) => reject(new NetworkError(error.errMsg)),
      });
    });
}

/** An error answer read as bytes or text: our JSON error shape, parsed when it is one. */
function parseErrorBody(data: unknown): unknown {
  const text = data instanceof ArrayBuffer ? new TextDecoder().decode(data) : data;
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Fetches a URL into a temporary file (`wx.downloadFile`, the WeChat way for images that an
 * `<image>` shows or `wx.saveImageToPhotosAlbum` saves). */
export type Downloader = (request: { url: string; headers: Record<string, string> }) => Promise<{ status: number; tempFilePath: string }>;

/** `wx.downloadFile` as the downloader: `createClient({ downloader: wxDownloader(wx), ... })`. */
export function wxDownloader(wx: Required<Pick<WxLike, "downloadFile">>): Downloader {
  return (request) =>
    new Promise((resolve, reject) => {
      wx.downloadFile({
        url: request.url,
        header: request.headers,
        success: (result) => resolve({ status: result.statusCode, tempFilePath: result.tempFilePath }),
        fail: (error) => reject(new NetworkError(error.errMsg)),
      });
    });
}

/** `wx.login` as the code source of the silent re-login. */
export function wxLogin(wx: WxLike): () => Promise<string> {
  return () =>
    new Promise((resolve, reject) =>
      wx.login({ success: (r) => resolve(r.code), fail: (e) => reject(new NetworkError(e.errMsg)) }),
    );
}

/** A transport over `fetch` (Node 18+, tests, web previews). */
export function fetchTransport(fetchImpl: typeof fetch = fetch): Transport {
  return async (request) => {
    let response: Response;
    try {
      response = await fetchImpl(request.url, {
        method: request.method,
        headers: request.body === undefined ? request.headers : { "Content-Type": "application/json", ...request.headers },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      });
    } catch (error) {
      throw new NetworkError(String(error));
    }
    const isJson = (response.headers.get("content-type") ?? "").includes("json");
    if (request.responseType === "arraybuffer" && !isJson) {
      return { status: response.status, data: await response.arrayBuffer() };
    }
    const text = await response.text();
    return { status: response.status, data: isJson && text ? JSON.parse(text) : text };
  };
}

// --- types derived from the contract ---------------------------------------------------------------
type JsonOf<R> = R extends { content: { "application/json": infer B } }
  ? B
  : R extends { content: { "image/png": unknown } | { "image/jpeg": unknown } }
    ? ArrayBuffer
    : R extends { content: { [k: string]: infer T } }
      ? T
      : undefined;
type Responses<O extends OperationId> = operations[O]["responses"];
type SuccessStatus = 200 | 201 | 202 | 204;
type ErrorStatus = Exclude<keyof Responses<OperationId>, SuccessStatus>;

/** Operations whose 2xx answer is a file: an image (`ArrayBuffer`) or a calendar (`string`). */
export type FileOperationId = {
  [O in OperationId]: Result<O> extends ArrayBuffer ? O : (typeof OPERATIONS)[O]["media"] extends "text/calendar" ? O : never;
}[OperationId];
/** Operations whose 2xx answer is an image. */
export type ImageOperationId = { [O in OperationId]: Result<O> extends ArrayBuffer ? O : never }[OperationId];

/** What a 2xx answer of operation `O` holds. */
export type Result<O extends OperationId> = {
  [S in keyof Responses<O>]: S extends SuccessStatus ? JsonOf<Responses<O>[S]> : never;
}[keyof Responses<O>];

/** The error body of operation `O` (our one error shape, with the operation's own code enum). */
export type ErrorBody<O extends OperationId> = {
  [S in keyof Responses<O>]: S extends SuccessStatus ? never : JsonOf<Responses<O>[S]>;
}[keyof Responses<O>];

type ErrorItem<B> = B extends { errors: (infer I)[] } ? I : never;
/** Every error `code` operation `O` can answer (from the contract's per-operation enums). */
export type ErrorCode<O extends OperationId> = ErrorItem<ErrorBody<O>> extends { code: infer C } ? C : never;

type PathParams<O extends OperationId> = operations[O]["parameters"] extends { path: infer P } ? P : never;
type QueryParams<O extends OperationId> = operations[O]["parameters"] extends { query?: infer Q } ? Q : never;
type BodyOf<O extends OperationId> = operations[O] extends { requestBody?: infer RB }
  ? RB extends { content: { "application/json": infer B } }
    ? B
    : never
  : never;

type MaybeKey<K extends string, T> = [T] extends [never] ? {} : [T] extends [undefined] ? {} : { [P in K]: T };
type BodyKey<O extends OperationId> = operations[O] extends { requestBody: unknown }
  ? { body: BodyOf<O> }
  : operations[O] extends { requestBody?: unknown }
    ? MaybeKey<"body", BodyOf<O>> extends { body: infer B } ? { body?: B } : {}
    : {};

/** The arguments of operation `O`: `path`, `query`, `body` as its contract says. */
export type Args<O extends OperationId> = MaybeKey<"path", PathParams<O>> &
  (QueryParams<O> extends undefined ? {} : { query?: QueryParams<O> }) &
  BodyKey<O>;

// --- errors ------------------------------------------------------------------------------------------
/** No answer from the server (offline, timeout, DNS). */
export class NetworkError extends Error {
  override name = "NetworkError";
}

/** The server answered an error of operation `O`; `code` is narrowed to that operation's codes. */
export class ApiError<O extends OperationId = OperationId> extends Error {
  override name = "ApiError";
  constructor(
    readonly operationId: O,
    readonly status: number,
    readonly body: ErrorBody<O>,
  ) {
    const first = (body as { errors?: { code: string; detail: string }[] } | undefined)?.errors?.[0];
    super(first ? `${operationId}: ${status} ${first.code}: ${first.detail}` : `${operationId}: ${status}`);
  }

  /** The first error's code (e.g. `already_voted`), one of the operation's documented codes. */
  get code(): ErrorCode<O> | undefined {
    return (this.body as { errors?: { code: ErrorCode<O> }[] } | undefined)?.errors?.[0]?.code;
  }

  /** Every error item (a validation error lists one per field, with `attr`). */
  get errors(): ErrorItem<ErrorBody<O>>[] {
    return ((this.body as { errors?: ErrorItem<ErrorBody<O>>[] } | undefined)?.errors ?? []) as ErrorItem<ErrorBody<O>>[];
  }
}

/** Narrows an unknown error to an `ApiError` of operation `op`. */
export function isApiError<O extends OperationId>(error: unknown, op: O): error is ApiError<O> {
  return error instanceof ApiError && error.operationId === op;
}

// --- client ------------------------------------------------------------------------------------------
export interface TokenStore {
  get(): string | null | Promise<string | null>;
  set(token: string | null): void | Promise<void>;
}

export function memoryTokenStore(initial: string | null = null): TokenStore {
  let token = initial;
  return { get: () => token, set: (t) => void (token = t) };
}

/** Token kept in wx storage across launches. */
export function wxStorageTokenStore(
  wx: { getStorageSync(key: string): unknown; setStorageSync(key: string, value: unknown): void; removeStorageSync(key: string): void },
  key = "wxc_token",
): TokenStore {
  return {
    get: () => (wx.getStorageSync(key) as string) || null,
    set: (t) => (t ? wx.setStorageSync(key, t) : wx.removeStorageSync(key)),
  };
}

export interface ClientOptions {
  /** Origin of the server, e.g. `https://api.example.com` (the paths carry `/api/v1`). */
  baseUrl: string;
  transport: Transport;
  /** Where the bearer token lives (default: memory). */
  tokens?: TokenStore;
  /** A fresh `wx.login` code; when given, a 401 triggers one silent re-login and one replay. */
  loginCode?: () => Promise<string>;
  /** Extra attempts of GET/PUT/DELETE after a network error, 502/503/504 or 429 (default 2). */
  retries?: number;
  /** Delay before retry `n` (1-based), in ms (default 300·2^(n-1)). */
  backoff?: (attempt: number) => number;
  /** `Accept-Language`: `zh-hans` (default on the server) or `en`. */
  language?: string;
  /** `wx.downloadFile` (`wxDownloader(wx)`), for `downloadFile` of images. */
  downloader?: Downloader;
  /** Called with every 2xx answer (tests validate them against the schema). */
  onResponse?: (operationId: OperationId, status: number, data: unknown) => void;
}

const IDEMPOTENT: ReadonlySet<HttpMethod> = new Set(["GET", "PUT", "DELETE"]);
const RETRY_STATUS = new Set([429, 502, 503, 504]);

export interface Client {
  /** Calls operation `op` of the contract; resolves with its 2xx answer, rejects with `ApiError<op>`. */
  call<O extends OperationId>(op: O, ...args: {} extends Args<O> ? [args?: Args<O>] : [args: Args<O>]): Promise<Result<O>>;
  /** Fetches an image operation (a ticket QR code) into a temporary file with `wx.downloadFile`
   * and resolves with its path, for `<image src>` or `wx.saveImageToPhotosAlbum`. */
  downloadFile<O extends ImageOperationId>(op: O, ...args: {} extends Args<O> ? [args?: Args<O>] : [args: Args<O>]): Promise<string>;
  /** Signs in with a `wx.login` code (`loginWithWeChat`) and keeps the token. */
  login(code?: string): Promise<Result<"loginWithWeChat">>;
  tokens: TokenStore;
}

export function createClient(options: ClientOptions): Client {
  const tokens = options.tokens ?? memoryTokenStore();
  const retries = options.retries ?? 2;
  const backoff = options.backoff ?? ((n: number) => 300 * 2 ** (n - 1));
  let relogin: Promise<void> | null = null;

  function buildUrl(path: string, pathParams?: Record<string, unknown>, query?: Record<string, unknown>): string {
    const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = pathParams?.[name];
      if (value === undefined || value === null) throw new TypeError(`missing path parameter ${name}`);
      return encodeURIComponent(String(value));
    });
    const pairs: string[] = [];
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      for (const v of Array.isArray(value) ? value : [value]) pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`);
    }
    return options.baseUrl.replace(/\/$/, "") + filled + (pairs.length ? `?${pairs.join("&")}` : "");
  }

  async function send(op: OperationId, args: { path?: object; query?: object; body?: unknown }, authed: boolean): Promise<TransportResponse> {
    const info = OPERATIONS[op];
    const headers: Record<string, string> = { Accept: "application/json" };
    if (options.language) headers["Accept-Language"] = options.language;
    const token = authed ? await tokens.get() : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    const media: string = info.media;
    const responseType = media.startsWith("image/") ? "arraybuffer" : media && media !== "application/json" ? "text" : undefined;
    const request: TransportRequest = {
      url: buildUrl(info.path, args.path as Record<string, unknown>, args.query as Record<string, unknown>),
      method: info.method,
      headers,
      ...(args.body === undefined ? {} : { body: args.body }),
      ...(responseType ? { responseType } : {}),
    };
    const attempts = IDEMPOTENT.has(info.method) ? retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await options.transport(request);
        if (attempt < attempts && RETRY_STATUS.has(response.status)) {
          await sleep(backoff(attempt));
          continue;
        }
        return response;
      } catch (error) {
        if (attempt >= attempts || !(error instanceof NetworkError)) throw error;
        await sleep(backoff(attempt));
      }
    }
  }

  async function login(code?: string): Promise<Result<"loginWithWeChat">> {
    const theCode = code ?? (options.loginCode ? await options.loginCode() : undefined);
    if (!theCode) throw new TypeError("login needs a code (pass one or set loginCode)");
    const response = await send("loginWithWeChat", { body: { code: theCode } }, false);
    const data = finish("loginWithWeChat", response);
    await tokens.set((data as { token: string }).token);
    return data;
  }

  function finish<O extends OperationId>(op: O, response: TransportResponse): Result<O> {
    if (response.status >= 200 && response.status < 300) {
      const data = response.status === 204 ? undefined : response.data;
      options.onResponse?.(op, response.status, data);
      return data as Result<O>;
    }
    throw new ApiError(op, response.status, response.data as ErrorBody<O>);
  }

  async function call<O extends OperationId>(op: O, args: Args<O> = {} as Args<O>): Promise<Result<O>> {
    const a = args as { path?: object; query?: object; body?: unknown };
    let response = await send(op, a, true);
    if (response.status === 401 && options.loginCode && op !== "loginWithWeChat") {
      // One re-login shared by every request that met the expired token at the same time.
      relogin ??= login().then(
        () => void (relogin = null),
        (error: unknown) => {
          relogin = null;
          throw error;
        },
      );
      await relogin;
      response = await send(op, a, true);
    }
    return finish(op, response);
  }

  async function downloadFile(op: ImageOperationId, args: { path?: object; query?: object } = {}): Promise<string> {
    if (!options.downloader) throw new TypeError("downloadFile needs a downloader (wxDownloader(wx))");
    const info = OPERATIONS[op];
    const request = async () => {
      const token = await tokens.get();
      const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
      if (options.language) headers["Accept-Language"] = options.language;
      return options.downloader!({ url: buildUrl(info.path, args.path as Record<string, unknown>, args.query as Record<string, unknown>), headers });
    };
    let result = await request();
    if (result.status === 401 && options.loginCode) {
      await login();
      result = await request();
    }
    if (result.status < 200 || result.status >= 300) throw new ApiError(op, result.status, undefined as never);
    return result.tempFilePath;
  }

  return { call: call as Client["call"], downloadFile: downloadFile as Client["downloadFile"], login, tokens };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
