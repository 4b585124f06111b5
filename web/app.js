// The vidsense web client: loads config.json (written at deploy time), signs in, routes /record and /review.
import { Api } from './api.js';
import { Auth, SignInExpired } from './auth.js';
import { errorBox, h, mount } from './dom.js';
import { RecordPage } from './record.js';
import { ReviewPage } from './review.js';

const root = document.getElementById('app');
const account = document.getElementById('account');
const STEP_PARAMS = /^[A-Za-z0-9_-]{1,64}$/;
const STEP_NUMBER = /^(0|[1-9][0-9]{0,2})$/;

function showError(error) {
  if (error instanceof SignInExpired) {
    account.replaceChildren();
    mount(root, h('h1', {}, 'Sign in again'), errorBox(error.message),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => window.vidsense.auth.signIn() }, 'Sign in')));
    return;
  }
  const message = (error && error.message) || String(error);
  mount(root, h('h1', {}, 'Something went wrong'), errorBox(message),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => location.reload() }, 'Reload')));
}

// Never a blank page: anything unexpected ends up as a message.
window.addEventListener('unhandledrejection', (event) => showError(event.reason));
window.addEventListener('error', (event) => showError(event.error || event.message));

async function loadConfig() {
  let response;
  try {
    response = await fetch('/config.json', { cache: 'no-store' });
  } catch {
    throw new Error('The settings of this site (config.json) cannot be loaded. Check your connection and reload.');
  }
  if (!response.ok) throw new Error(`The settings of this site (config.json) are missing (${response.status}).`);
  const config = await response.json();
  for (const key of ['apiUrl', 'issuer', 'clientId']) {
    if (!config[key]) throw new Error(`The settings of this site (config.json) lack ${key}.`);
  }
  return config;
}

function stepFromQuery() {
  const params = new URLSearchParams(location.search);
  const project = params.get('project') || '';
  const step = params.get('step') || '';
  if (!STEP_PARAMS.test(project) || !STEP_NUMBER.test(step)) return null;
  return { project, step };
}

function renderAccount(auth) {
  const user = auth.user();
  if (!user) {
    account.replaceChildren();
    return;
  }
  const role = user.groups.includes('reviewers') ? ' (reviewer)' : '';
  account.replaceChildren(
    h('span', {}, `${user.email || 'signed in'}${role}`),
    h('button', { type: 'button', class: 'secondary', onclick: () => auth.signOut() }, 'Sign out'),
  );
}

function home() {
  const project = h('input', { type: 'text', id: 'project', name: 'project', required: true, pattern: '[A-Za-z0-9_-]{1,64}' });
  const step = h('input', { type: 'text', id: 'step', name: 'step', required: true, pattern: '0|[1-9][0-9]{0,2}' });
  const go = (path) => () => {
    if (project.reportValidity() && step.reportValidity()) {
      location.assign(`${path}?${new URLSearchParams({ project: project.value, step: step.value })}`);
    }
  };
  mount(root, h('h1', {}, 'Answer a step with a video'),
    h('p', {}, 'Open the link you were given, or name the project and step:'),
    h('label', { for: 'project' }, 'Project'), project,
    h('label', { for: 'step' }, 'Step'), step,
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: go('/record') }, 'Record an answer'),
      h('button', { type: 'button', class: 'secondary', onclick: go('/review') }, 'Review answers')));
}

async function main() {
  const config = await loadConfig();
  const auth = new Auth(config);
  const api = new Api(config.apiUrl, auth);
  window.vidsense = { config, auth, api };
  const path = location.pathname.replace(/\/+$/, '') || '/';

  if (path === '/callback') {
    mount(root, h('p', {}, 'Signing you in…'));
    const returnTo = await auth.completeSignIn(new URLSearchParams(location.search));
    history.replaceState(null, '', returnTo);
    return main();
  }
  if (path !== '/record' && path !== '/review') {
    renderAccount(auth);
    home();
    return undefined;
  }
  const target = stepFromQuery();
  if (!target) {
    mount(root, h('h1', {}, 'Which step?'),
      errorBox('This link lacks a valid project (letters, digits, - and _) or step (0 to 999). Ask for the link again.'));
    return undefined;
  }
  if (!auth.stored()) {
    mount(root, h('p', {}, 'Taking you to sign in…'));
    await auth.signIn();
    return undefined;
  }
  renderAccount(auth);
  const Page = path === '/record' ? RecordPage : ReviewPage;
  const page = new Page(root, { api, config, ...target, onError: showError });
  return page.show();
}

main().catch(showError);
