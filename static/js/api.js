// A small fetch wrapper for the JSON API: bearer token, JSON bodies, and the server's error
// shape {"error": {code, message, details}} turned into an ApiError.

export class ApiError extends Error {
  constructor({ status = 0, code, message, details = {} }) {
    super(message || code);
    this.name = "ApiError";
    this.status = status; // 0 when the server could not be reached
    this.code = code;
    this.details = details ?? {};
  }

  /** The field the server complained about (details.field), if any. */
  get field() {
    return typeof this.details.field === "string" ? this.details.field : null;
  }
}

export class Api {
  constructor({ baseUrl = "", timeoutMs = 15000 } = {}) {
    this.baseUrl = baseUrl;
    this.timeoutMs = timeoutMs;
    this.token = null;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body) {
    return this.request("POST", path, body);
  }

  patch(path, body) {
    return this.request("PATCH", path, body);
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    // AbortSignal.timeout() is missing from older iOS WebViews, hence the explicit timer.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        signal: controller.signal,
      });
    } catch (error) {
      throw new ApiError({ code: "network_error", message: String(error?.message ?? error) });
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    if ((response.headers.get("Content-Type") ?? "").includes("application/json")) {
      data = await response.json().catch(() => null);
    }
    if (!response.ok) {
      const error = data?.error ?? {};
      throw new ApiError({
        status: response.status,
        code: typeof error.code === "string" ? error.code : "http_error",
        message: typeof error.message === "string" ? error.message : response.statusText,
        details: error.details,
      });
    }
    return data;
  }
}
