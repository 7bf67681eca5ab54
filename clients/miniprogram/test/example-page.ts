// The README's mini-program page, type-checked by `tsc` with the rest of the tests (only the
// import path differs). `wx` and `Page` are declared here with the few members the page uses;
// a real mini-program gets them from miniprogram-api-typings.
import { createClient, isApiError, wxLogin, wxStorageTokenStore, wxTransport, type WxLike } from "../src/index.js";

declare const wx: WxLike & {
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
  removeStorageSync(key: string): void;
  showToast(options: { title: string; icon: "none" | "success" }): void;
};
declare namespace WechatMiniprogram {
  interface TouchEvent {
    currentTarget: { dataset: Record<string, string> };
  }
}
declare function Page<T>(options: T & ThisType<T & { setData(data: object): void }>): void;

const api = createClient({
  baseUrl: "https://api.example.com",
  transport: wxTransport(wx),
  loginCode: wxLogin(wx), // a 401 signs in again silently
  tokens: wxStorageTokenStore(wx), // the token survives restarts
});

Page({
  data: { page: null as unknown },
  async onLoad(query: Record<string, string>) {
    if (!(await api.tokens.get())) await api.login();
    const page = await api.call("getPollPage", { path: { poll_id: query.id! } });
    this.setData({ page });
  },
  async vote(e: WechatMiniprogram.TouchEvent) {
    try {
      await api.call("castBallot", {
        path: { poll_id: e.currentTarget.dataset.poll! },
        body: { kind: "single", option_ids: [e.currentTarget.dataset.option!] },
      });
    } catch (error) {
      if (!isApiError(error, "castBallot")) throw error;
      switch (error.code) {
        case "poll_closed":
          wx.showToast({ title: "投票已结束", icon: "none" });
          break;
        default:
          wx.showToast({ title: error.errors[0]?.detail ?? "出错了", icon: "none" });
      }
    }
  },
});
