// The HTTP API as docs/openapi.json documents it, and the presigned upload to the media bucket.
import { SignInExpired } from './auth.js';

export class ApiError extends Error {
  constructor(status, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

const UNREACHABLE = 'The service cannot be reached. Check your connection and try again.';

export class Api {
  constructor(baseUrl, auth) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.auth = auth;
  }

  async request(method, path) {
    const token = await this.auth.idToken();
    if (!token) throw new SignInExpired('You are not signed in.');
    let response;
    try {
      response = await fetch(this.baseUrl + path, { method, headers: { Authorization: `Bearer ${token}` } });
    } catch {
      throw new ApiError(0, UNREACHABLE);
    }
    if (response.status === 401) {
      this.auth.forget();
      throw new SignInExpired();
    }
    const text = await response.text();
    const json = (response.headers.get('Content-Type') || '').includes('json') ? safeJson(text) : null;
    if (!response.ok) {
      const message = (json && json.message) || text || `The service answered ${response.status}.`;
      throw new ApiError(response.status, message, response.headers.get('Retry-After'));
    }
    return json;
  }

  answer(project, step) {
    return this.request('GET', `/answers/${enc(project)}/${enc(step)}`);
  }

  deleteAnswer(project, step) {
    return this.request('DELETE', `/answers/${enc(project)}/${enc(step)}`);
  }

  presign(project, step) {
    return this.request('GET', `/presignedurl/${enc(project)}/${enc(step)}`);
  }

  stepAnswers(project, step, { limit = 20, cursor = null } = {}) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set('cursor', cursor);
    return this.request('GET', `/projects/${enc(project)}/steps/${enc(step)}/answers?${query}`);
  }
}

// The presigned POST form with XMLHttpRequest, which reports upload progress (fetch does not).
export function upload(form, blob, onProgress) {
  return new Promise((resolve, reject) => {
    const data = new FormData();
    for (const [name, value] of Object.entries(form.fields)) data.append(name, value);
    data.append('file', blob, 'answer.webm');
    const xhr = new XMLHttpRequest();
    xhr.open(form.method || 'POST', form.url);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      const message = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || '');
      reject(new ApiError(xhr.status, `The upload was refused (${xhr.status}): ${message ? message[1] : xhr.statusText}`));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'The upload could not reach the storage service. Check your connection and try again.')));
    xhr.addEventListener('timeout', () => reject(new ApiError(0, 'The upload timed out. Try again.')));
    xhr.send(data);
  });
}

function enc(value) {
  return encodeURIComponent(String(value));
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
