// /review?project=P&step=S: a step's answers for reviewers, paginated, with a chart and a CSV export.
import { ApiError } from './api.js';
import { SignInExpired } from './auth.js';
import { SCORES, labelChart, scoreChart } from './chart.js';
import { errorBox, h, mount } from './dom.js';

const PAGE_SIZE = 20;
const CHART_PAGES = 50; // at most 5,000 answers in the chart and the export
const EXCERPT_CHARS = 120; // a longer transcript opens from its first words (details/summary)

export function toCsv(items) {
  const header = ['user_key', 'status', 'sentiment', ...SCORES.map((s) => s.toLowerCase()), 'attempt', 'updated_at', 'transcript'];
  const cell = (value) => {
    let text = value === null || value === undefined ? '' : String(value);
    // A spreadsheet runs a cell that starts like a formula: a leading quote keeps it text (OWASP CSV injection).
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    // RFC 4180: quote a cell holding a quote, comma or line break, and double its quotes.
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = items.map((item) => [
    item.user_key, item.status, item.sentiment,
    ...SCORES.map((s) => (item.sentiment_score ? item.sentiment_score[s] : '')),
    item.attempt, item.updated_at, item.transcript,
  ].map(cell).join(','));
  return [header.join(','), ...lines].join('\r\n') + '\r\n';
}

// The transcript cell: short text as is, a long one as its first words that open to the whole text.
export function transcriptCell(text) {
  if (text === null || text === undefined || text === '') return h('td', { class: 'muted' }, '–');
  if (text.length <= EXCERPT_CHARS) return h('td', { class: 'transcript-cell' }, text);
  const excerpt = `${text.slice(0, EXCERPT_CHARS).replace(/\s+\S*$/, '')}…`;
  return h('td', { class: 'transcript-cell' }, h('details', {}, h('summary', {}, excerpt), h('p', {}, text)));
}

export class ReviewPage {
  constructor(root, { api, project, step, onError, pageSize }) {
    this.root = root;
    this.api = api;
    this.project = project;
    this.step = step;
    this.onError = onError;
    this.pageSize = pageSize || PAGE_SIZE;
    this.cursors = [null];
    this.page = 0;
  }

  async show() {
    this.heading = h('h1', {}, `Answers to project ${this.project}, step ${this.step}`);
    this.tableArea = h('div', {}, h('p', { class: 'muted' }, 'Loading answers…'));
    this.chartArea = h('div', { class: 'charts' });
    this.problem = h('div');
    this.exportButton = h('button', { type: 'button', class: 'secondary', onclick: () => this.exportCsv() }, 'Export CSV');
    mount(this.root, this.heading, this.problem,
      h('section', { 'aria-labelledby': 'chart-heading' }, h('h2', { id: 'chart-heading' }, 'Sentiment of the step'), this.chartArea),
      h('section', { 'aria-labelledby': 'list-heading' }, h('h2', { id: 'list-heading' }, 'Answers'),
        h('div', { class: 'actions' }, this.exportButton), this.tableArea));
    const first = await this.loadPage(0);
    if (first) await this.loadChart();
  }

  handle(error) {
    if (error instanceof SignInExpired) {
      this.onError(error);
      return;
    }
    const refused = error instanceof ApiError && error.status === 403;
    this.problem.replaceChildren(errorBox(refused ? `${error.message} (only reviewers see a step's answers)` : error.message));
  }

  async loadPage(index) {
    let page;
    try {
      page = await this.api.stepAnswers(this.project, this.step, { limit: this.pageSize, cursor: this.cursors[index] });
    } catch (error) {
      this.tableArea.replaceChildren();
      this.handle(error);
      return false;
    }
    this.page = index;
    this.cursors[index + 1] = page.next_cursor;
    this.renderTable(page);
    return true;
  }

  renderTable(page) {
    if (!page.items.length && this.page === 0) {
      this.tableArea.replaceChildren(h('p', {}, 'No answers yet.'));
      return;
    }
    const head = ['Person', 'Status', 'Sentiment', ...SCORES, 'Attempt', 'Updated', 'Transcript'];
    const rows = page.items.map((item) => h('tr', {},
      h('td', {}, h('code', {}, item.user_key.slice(0, 12))),
      h('td', {}, item.status),
      h('td', {}, item.sentiment || '–'),
      ...SCORES.map((name) => h('td', { class: 'num' }, item.sentiment_score ? Number(item.sentiment_score[name]).toFixed(2) : '–')),
      h('td', { class: 'num' }, String(item.attempt)),
      h('td', {}, new Date(item.updated_at).toLocaleString()),
      transcriptCell(item.transcript),
    ));
    const previous = h('button', { type: 'button', class: 'secondary', disabled: this.page === 0, onclick: () => this.loadPage(this.page - 1) }, 'Previous page');
    const next = h('button', { type: 'button', class: 'secondary', disabled: !page.next_cursor, onclick: () => this.loadPage(this.page + 1) }, 'Next page');
    // Transcripts make the table wider than a narrow window: it scrolls sideways, by keyboard too (focusable region).
    this.tableArea.replaceChildren(
      h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Answers table' },
        h('table', {},
          h('caption', { class: 'muted' }, `Page ${this.page + 1}`),
          h('thead', {}, h('tr', {}, head.map((name) => h('th', { scope: 'col' }, name)))),
          h('tbody', {}, rows))),
      h('nav', { class: 'actions', 'aria-label': 'Pages' }, previous, next),
    );
  }

  async everything() {
    const items = [];
    let cursor = null;
    for (let n = 0; n < CHART_PAGES; n += 1) {
      const page = await this.api.stepAnswers(this.project, this.step, { limit: 100, cursor });
      items.push(...page.items);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    return items;
  }

  async loadChart() {
    try {
      const items = await this.everything();
      this.chartArea.replaceChildren(labelChart(items), scoreChart(items));
    } catch (error) {
      this.handle(error);
    }
  }

  async exportCsv() {
    this.exportButton.disabled = true;
    try {
      const csv = toCsv(await this.everything());
      const link = h('a', { href: URL.createObjectURL(new Blob([csv], { type: 'text/csv' })), download: `answers-${this.project}-${this.step}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (error) {
      this.handle(error);
    } finally {
      this.exportButton.disabled = false;
    }
  }
}
