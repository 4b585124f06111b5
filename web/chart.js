// Inline SVG charts of a step's sentiment: answers per label, and each score's distribution (a dot per answer).
import { h } from './dom.js';

export const LABELS = ['POSITIVE', 'NEGATIVE', 'NEUTRAL', 'MIXED'];
export const SCORES = ['Positive', 'Negative', 'Neutral', 'Mixed'];
const COLOURS = { POSITIVE: '#1b6e3a', NEGATIVE: '#a4161a', NEUTRAL: '#4a5568', MIXED: '#8a5a00' };

export function labelCounts(items) {
  const counts = Object.fromEntries(LABELS.map((label) => [label, 0]));
  for (const item of items) if (item.sentiment in counts) counts[item.sentiment] += 1;
  return counts;
}

export function labelChart(items) {
  const counts = labelCounts(items);
  const top = Math.max(1, ...Object.values(counts));
  const width = 360;
  const rowHeight = 30;
  const left = 90;
  const bars = LABELS.flatMap((label, index) => {
    const y = 10 + index * rowHeight;
    const length = ((width - left - 40) * counts[label]) / top;
    return [
      h('text', { x: left - 8, y: y + 15, 'text-anchor': 'end', 'font-size': 12 }, label),
      h('rect', { x: left, y, width: Math.max(length, 1), height: 20, fill: COLOURS[label] }),
      h('text', { x: left + length + 6, y: y + 15, 'font-size': 12 }, String(counts[label])),
    ];
  });
  const summary = LABELS.map((label) => `${label} ${counts[label]}`).join(', ');
  return h('figure', {},
    h('figcaption', { id: 'chart-labels' }, 'Answers per sentiment'),
    h('svg', { role: 'img', 'aria-labelledby': 'chart-labels', viewBox: `0 0 ${width} ${20 + LABELS.length * rowHeight}`, width, height: 20 + LABELS.length * rowHeight, 'data-chart': 'labels' },
      h('title', {}, `Answers per sentiment: ${summary}`), bars));
}

export function scoreChart(items) {
  const scored = items.filter((item) => item.sentiment_score);
  const width = 360;
  const left = 90;
  const span = width - left - 20;
  const rowHeight = 30;
  const rows = SCORES.flatMap((name, index) => {
    const y = 20 + index * rowHeight;
    const dots = scored.map((item) => h('circle', {
      cx: left + span * Number(item.sentiment_score[name] || 0), cy: y, r: 4, fill: COLOURS[name.toUpperCase()], 'fill-opacity': 0.6,
    }));
    return [
      h('text', { x: left - 8, y: y + 4, 'text-anchor': 'end', 'font-size': 12 }, name),
      h('line', { x1: left, x2: left + span, y1: y, y2: y, stroke: '#c5cad3' }),
      ...dots,
    ];
  });
  const axisY = 20 + SCORES.length * rowHeight - 8;
  const ticks = [0, 0.5, 1].map((tick) => h('text', { x: left + span * tick, y: axisY + 12, 'text-anchor': 'middle', 'font-size': 11 }, String(tick)));
  const height = axisY + 20;
  return h('figure', {},
    h('figcaption', { id: 'chart-scores' }, 'Score distribution (one dot per answer)'),
    h('svg', { role: 'img', 'aria-labelledby': 'chart-scores', viewBox: `0 0 ${width} ${height}`, width, height, 'data-chart': 'scores' },
      h('title', {}, `Scores of ${scored.length} analyzed answers`), rows, ticks));
}
