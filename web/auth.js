// OpenID Connect sign-in: authorization code with PKCE (S256) against the issuer of config.json.
const TOKENS = 'vidsense.tokens';
const PENDING = 'vidsense.signin';

export class SignInExpired extends Error {
  constructor(message = 'Your sign-in has expired. Sign in again to continue.') {
    super(message);
    this.name = 'SignInExpired';
  }
}

function base64url(bytes) {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(bytes = 48) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challengeOf(verifier) {
  return base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
}

export function claimsOf(jwt) {
  const part = jwt.split('.')[1] || '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  return JSON.parse(decodeURIComponent(escape(json)));
}

export class Auth {
  constructor(config) {
    this.config = config;
    this.redirectUri = config.redirectUri || `${location.origin}/callback`;
    this._discovery = null;
  }

  async discovery() {
    if (!this._discovery) {
      const url = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      let response;
      try {
        response = await fetch(url);
      } catch (error) {
        throw new Error(`The sign-in service cannot be reached (${error.message}). Check your connection and reload.`);
      }
      if (!response.ok) throw new Error(`The sign-in service answered ${response.status}; try again later.`);
      this._discovery = await response.json();
    }
    return this._discovery;
  }

  stored() {
    try {
      return JSON.parse(sessionStorage.getItem(TOKENS) || 'null');
    } catch {
      return null;
    }
  }

  user() {
    const tokens = this.stored();
    if (!tokens) return null;
    const claims = claimsOf(tokens.id_token);
    return { email: claims.email, groups: claims['cognito:groups'] || [] };
  }

  // The ID token for the API (it carries email and groups); refreshed once when expired.
  async idToken() {
    const tokens = this.stored();
    if (!tokens) return null;
    if (Date.now() < tokens.expires_at - 30_000) return tokens.id_token;
    if (tokens.refresh_token) {
      try {
        await this._redeem({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, tokens.refresh_token);
        return this.stored().id_token;
      } catch {
        // fall through: the person signs in again
      }
    }
    sessionStorage.removeItem(TOKENS);
    throw new SignInExpired();
  }

  forget() {
    sessionStorage.removeItem(TOKENS);
  }

  async signIn(returnTo = location.pathname + location.search) {
    const discovery = await this.discovery();
    const verifier = randomString(48);
    const state = randomString(16);
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo }));
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: this.config.clientId,
      redirect_uri: this.redirectUri,
      scope: this.config.scope || 'openid email profile',
      state,
      code_challenge: await challengeOf(verifier),
      code_challenge_method: 'S256',
    });
    location.assign(`${discovery.authorization_endpoint}?${query}`);
  }

  // Back from the issuer: redeem the code; returns where the person was going.
  async completeSignIn(params) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
    sessionStorage.removeItem(PENDING);
    // The state first: a callback this tab did not start may carry any text, shown to nobody.
    if (!pending || pending.state !== params.get('state')) {
      throw new Error('Sign-in did not complete (this link is stale or was opened in another tab). Please sign in again.');
    }
    if (params.get('error')) {
      throw new Error(`Sign-in was refused: ${params.get('error_description') || params.get('error')}.`);
    }
    await this._redeem({
      grant_type: 'authorization_code',
      code: params.get('code') || '',
      redirect_uri: this.redirectUri,
      code_verifier: pending.verifier,
    });
    return pending.returnTo || '/';
  }

  async _redeem(grant, previousRefresh) {
    const discovery = await this.discovery();
    const response = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...grant, client_id: this.config.clientId }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(`Sign-in failed: ${body.error_description || body.error || response.status}.`);
    sessionStorage.setItem(
      TOKENS,
      JSON.stringify({
        id_token: body.id_token,
        refresh_token: body.refresh_token || previousRefresh,
        expires_at: Date.now() + (body.expires_in || 3600) * 1000,
      }),
    );
  }

  async signOut() {
    this.forget();
    const discovery = await this.discovery();
    // Cognito publishes no end_session_endpoint; config.json names its managed login's /logout instead.
    const logout = discovery.end_session_endpoint || this.config.logoutUrl;
    if (!logout) {
      location.assign('/');
      return;
    }
    const query = new URLSearchParams({ client_id: this.config.clientId, logout_uri: `${location.origin}/` });
    location.assign(`${logout}?${query}`);
  }
}
