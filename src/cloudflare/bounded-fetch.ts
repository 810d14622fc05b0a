// Every HTTP attempt to Cloudflare, bounded: one deadline for the whole response (the SDK's own
// timeout stops at the headers, so a body sent a byte at a time would hold a walk for ever) and
// a byte limit on the body, counted as it arrives (a 100 MB page would otherwise be buffered,
// then parsed, whole). Both end the attempt with an error the envelope reader names.

/** The body was still arriving when the attempt's deadline passed. */
export class ResponseDeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the response (headers and body) took longer than ${timeoutMs} ms (cloudflare.timeoutMs)`);
    this.name = 'ResponseDeadlineError';
  }
}

/** The body is larger than the limit; reading stopped at the limit. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number, readonly declared: number | undefined) {
    super(`the response body is larger than ${limit} bytes${declared !== undefined ? ` (${declared} announced)` : ''} (cloudflare.maxBodyBytes); refused without reading it all`);
    this.name = 'BodyTooLargeError';
  }
}

export interface Bounds {
  timeoutMs: number;
  maxBodyBytes: number;
}

/** The body, passed through while it stays under `limit` bytes. */
function limitBody(body: ReadableStream<Uint8Array>, limit: number, onEnd: () => void): ReadableStream<Uint8Array> {
  let seen = 0;
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          onEnd();
          controller.close();
          return;
        }
        seen += value.byteLength;
        if (seen > limit) throw new BodyTooLargeError(limit, undefined);
        controller.enqueue(value);
      } catch (err) {
        onEnd();
        await reader.cancel().catch(() => undefined);
        controller.error(err);
      }
    },
    cancel(reason) {
      onEnd();
      return reader.cancel(reason);
    },
  });
}

/** `inner` with a whole-response deadline and a body byte limit per attempt. */
export function boundedFetch(inner: typeof fetch, bounds: Bounds): typeof fetch {
  return async (input, init) => {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new ResponseDeadlineError(bounds.timeoutMs)), bounds.timeoutMs);
    // A body nobody reads (an answer the SDK drops) must not keep the process alive until the deadline.
    timer.unref();
    const done = () => clearTimeout(timer);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline.signal]) : deadline.signal;
    let response: Response;
    try {
      response = await inner(input, { ...init, signal });
    } catch (err) {
      done();
      throw deadline.signal.aborted ? deadline.signal.reason : err;
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > bounds.maxBodyBytes) {
      // Refused as a body that cannot be read (not a failed request, which the SDK would send again).
      done();
      await response.body?.cancel().catch(() => undefined);
      const refused = new ReadableStream<Uint8Array>({ start: (c) => c.error(new BodyTooLargeError(bounds.maxBodyBytes, declared)) });
      return new Response(refused, { status: response.status, statusText: response.statusText, headers: response.headers });
    }
    if (!response.body) {
      done();
      return response;
    }
    // A read that fails because the deadline aborted the request says so, not "aborted".
    const body = limitBody(response.body, bounds.maxBodyBytes, done).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({}),
      { signal: deadline.signal },
    );
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
