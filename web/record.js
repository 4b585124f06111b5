// /record?project=P&step=S: record a video answer, upload it, follow it to its sentiment.
import { ApiError, upload } from './api.js';
import { SignInExpired } from './auth.js';
import { errorBox, h, mount } from './dom.js';

const PIPELINE = ['UPLOADED', 'TRANSCODED', 'TRANSCRIBED', 'ANALYZED'];
const FINAL = new Set(['ANALYZED', 'NO_SPEECH', 'FAILED']);
// An erasure normally ends in a 404 within seconds; one that stopped halfway waits for a DELETE retry instead.
const DELETING_POLLS = 20;
const SCORES = ['Positive', 'Negative', 'Neutral', 'Mixed'];
const MIME_TYPES = ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus', 'video/webm'];

function clock(seconds) {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

const CAMERA_ATTEMPTS = 4;
// A capture request can hang (a device stuck in a driver or another application): past this it counts as busy.
const CAMERA_TIMEOUT_MS = 8000;
const BUSY_DEVICE = ['NotReadableError', 'AbortError', 'TimeoutError'];

function stopTracks(stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
}

// getUserMedia, or a TimeoutError once CAMERA_TIMEOUT_MS have passed; a stream granted after that is released.
function captureWithin(constraints) {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new DOMException('The camera or microphone did not respond.', 'TimeoutError'));
    }, CAMERA_TIMEOUT_MS);
    navigator.mediaDevices.getUserMedia(constraints).then(
      (stream) => {
        if (late) return stopTracks(stream);
        clearTimeout(timer);
        resolve(stream);
      },
      (error) => {
        if (late) return;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

// A device released a moment ago can still be busy (NotReadableError, AbortError, no answer): wait and ask again
// before telling the person; refusals and missing devices are final.
async function capture(constraints) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await captureWithin(constraints);
    } catch (error) {
      if (attempt >= CAMERA_ATTEMPTS || !BUSY_DEVICE.includes(error && error.name)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

export function cameraMessage(error) {
  switch (error && error.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Access to the camera or microphone was refused. Allow both for this site in your browser settings, then reload the page.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera or microphone was found. Connect one, then reload the page.';
    case 'NotReadableError':
      return 'The camera or microphone is in use by another application. Close it, then reload the page.';
    case 'TimeoutError':
      return 'The camera or microphone did not respond. Close other applications that use them, then reload the page.';
    default:
      return `The camera could not be started (${(error && error.message) || error}). Reload the page to try again.`;
  }
}

export class RecordPage {
  constructor(root, { api, config, project, step, onError }) {
    this.root = root;
    this.api = api;
    this.config = config;
    this.project = project;
    this.step = step;
    this.onError = onError;
    this.maxSeconds = Number(config.maxRecordingSeconds) || 60;
    this.pollMs = Number(config.pollIntervalMs) || 1500;
    this.stream = null;
    this.microphone = null;
    this.recorder = null;
    this.recording = null;
    this.pollTimer = null;
    this.notice = null;
    this.known = false; // the API has shown this answer: a later 404 means it was deleted
    this.deletingPolls = 0;
  }

  async show() {
    this.heading = h('h1', {}, `Project ${this.project}, step ${this.step}`);
    mount(this.root, this.heading, h('p', { class: 'muted' }, 'Looking for your answer…'));
    let answer = null;
    try {
      answer = await this.api.answer(this.project, this.step);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) return this.fail(error);
    }
    if (!answer) return this.showRecorder();
    this.known = true;
    if (answer.status !== 'FAILED' && answer.status !== 'DELETING') {
      // A recorder would only be refused: show the API's own words and the stored answer.
      try {
        await this.api.presign(this.project, this.step);
      } catch (error) {
        if (error instanceof SignInExpired) return this.fail(error);
        if (error instanceof ApiError && error.status !== 0) this.notice = error.message;
      }
    }
    return this.showAnswer(answer);
  }

  fail(error) {
    this.stopPolling();
    this.releaseCamera();
    this.onError(error);
  }

  // -- recorder ----------------------------------------------------------------------------------------
  async showRecorder(message) {
    this.stopPolling();
    this.notice = null;
    this.known = false;
    const section = h('section', { 'aria-labelledby': 'recorder-heading' });
    mount(this.root, this.heading, message ? h('p', { class: 'notice' }, message) : null, section);
    section.append(h('h2', { id: 'recorder-heading' }, 'Record your answer'));
    if (typeof window.MediaRecorder !== 'function' || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      section.append(errorBox('This browser cannot record video (no MediaRecorder or camera access). Use a recent Chrome, Edge, Firefox or Safari.'));
      return;
    }
    const mimeType = MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    if (!mimeType) {
      section.append(errorBox('This browser cannot record WebM video. Use a recent Chrome, Edge or Firefox.'));
      return;
    }
    this.mimeType = mimeType;
    this.preview = h('video', { muted: true, autoplay: true, playsInline: true, 'aria-label': 'Camera preview' });
    this.timer = h('span', { class: 'timer' }, `0:00 / ${clock(this.maxSeconds)}`);
    this.startButton = h('button', { type: 'button', disabled: true, onclick: () => this.start() }, 'Start recording');
    this.stopButton = h('button', { type: 'button', hidden: true, onclick: () => this.stop() }, 'Stop');
    this.review = h('div');
    this.problem = h('div');
    section.append(
      h('p', { class: 'muted' }, `Answer in at most ${clock(this.maxSeconds)}. You can watch it and record again before you submit.`),
      this.preview,
      h('div', { class: 'actions' }, this.startButton, this.stopButton, h('span', {}, 'Time: ', this.timer)),
      this.problem,
      this.review,
    );
    await this.showPreview();
  }

  // Recording can start once the camera shows; otherwise the person reads why it cannot.
  async showPreview() {
    try {
      await this.openCamera();
      this.startButton.disabled = false;
    } catch (error) {
      this.problem.replaceChildren(errorBox(cameraMessage(error)));
    }
  }

  // The preview holds the camera only: the microphone opens when recording starts (the browser asks for it then)
  // and closes with the take, so it is never live while the person gets ready, nor opened and dropped at once.
  async openCamera() {
    this.releaseCamera();
    const stream = await capture({ video: true });
    this.stream = stream;
    this.preview.srcObject = stream;
    this.preview.hidden = false;
  }

  releaseCamera() {
    stopTracks(this.stream);
    stopTracks(this.microphone);
    this.stream = null;
    this.microphone = null;
  }

  async start() {
    this.startButton.disabled = true;
    this.review.replaceChildren();
    this.problem.replaceChildren();
    try {
      // The camera stays open from the preview; the microphone opens for this take only.
      const live = this.stream && this.stream.getVideoTracks().some((track) => track.readyState === 'live');
      if (!live) await this.openCamera();
      stopTracks(this.microphone);
      this.microphone = await capture({ audio: true });
    } catch (error) {
      this.problem.replaceChildren(errorBox(cameraMessage(error)));
      this.startButton.disabled = false;
      return;
    }
    const chunks = [];
    const tracks = [...this.stream.getVideoTracks(), ...this.microphone.getAudioTracks()];
    this.recorder = new MediaRecorder(new MediaStream(tracks), { mimeType: this.mimeType });
    this.recorder.addEventListener('dataavailable', (event) => {
      if (event.data && event.data.size) chunks.push(event.data);
    });
    this.recorder.addEventListener('stop', () => this.recorded(new Blob(chunks, { type: 'video/webm' })));
    this.recorder.addEventListener('error', (event) => {
      this.problem.replaceChildren(errorBox(`Recording failed: ${event.error ? event.error.message : 'unknown error'}.`));
    });
    this.recorder.start(1000);
    const began = performance.now();
    this.startButton.hidden = true;
    this.stopButton.hidden = false;
    this.stopButton.focus();
    this.tick = setInterval(() => {
      const seconds = (performance.now() - began) / 1000;
      this.timer.textContent = `${clock(Math.min(seconds, this.maxSeconds))} / ${clock(this.maxSeconds)}`;
      if (seconds >= this.maxSeconds) this.stop();
    }, 200);
  }

  stop() {
    clearInterval(this.tick);
    if (this.recorder && this.recorder.state !== 'inactive') this.recorder.stop();
    this.stopButton.hidden = true;
  }

  recorded(blob) {
    this.releaseCamera();
    this.preview.hidden = true;
    this.recording = blob;
    if (this.playbackUrl) URL.revokeObjectURL(this.playbackUrl);
    this.playbackUrl = URL.createObjectURL(blob);
    this.progress = h('progress', { max: 1, value: 0, id: 'upload-progress' });
    this.progressText = h('span', {}, '');
    this.submitButton = h('button', { type: 'button', onclick: () => this.submit() }, 'Submit answer');
    this.againButton = h('button', { type: 'button', class: 'secondary', onclick: () => this.again() }, 'Record again');
    this.review.replaceChildren(
      h('h2', {}, 'Your recording'),
      h('video', { controls: true, src: this.playbackUrl, 'aria-label': 'Your recording' }),
      h('p', { class: 'muted' }, `${clock(0)}–${this.timer.textContent.split(' / ')[0]}, ${(blob.size / 1024).toFixed(0)} KB`),
      h('div', { class: 'actions' }, this.submitButton, this.againButton),
      h('div', { class: 'upload', hidden: true },
        h('label', { for: 'upload-progress' }, 'Upload'), this.progress, ' ', this.progressText),
    );
  }

  async again() {
    this.review.replaceChildren();
    this.startButton.hidden = false;
    this.startButton.disabled = true;
    this.timer.textContent = `0:00 / ${clock(this.maxSeconds)}`;
    await this.showPreview();
  }

  async submit() {
    this.submitButton.disabled = true;
    this.againButton.disabled = true;
    this.problem.replaceChildren();
    this.progress.parentElement.hidden = false;
    try {
      const presigned = await this.api.presign(this.project, this.step);
      await upload(presigned.upload, this.recording, (fraction) => {
        this.progress.value = fraction;
        this.progressText.textContent = `${Math.round(fraction * 100)} %`;
      });
    } catch (error) {
      if (error instanceof SignInExpired) return this.fail(error);
      // A 429's message already says how long to wait (services/ingest/src/ingest/domain/limits.py).
      this.problem.replaceChildren(errorBox(error.message));
      this.submitButton.disabled = false;
      this.againButton.disabled = false;
      return;
    }
    this.showAnswer({ status: 'UPLOADED', transcript: null, sentiment: null, sentiment_score: null, error: null });
  }

  // -- stored answer -----------------------------------------------------------------------------------
  showAnswer(answer) {
    this.releaseCamera();
    this.answerSection = h('section', { 'aria-labelledby': 'answer-heading' });
    mount(this.root, this.heading, this.notice ? h('p', { class: 'notice' }, this.notice) : null, this.answerSection);
    this.deletingPolls = 0;
    this.renderAnswer(answer);
    this.followIfBusy(answer);
  }

  // Follow an answer until it is final; a DELETING one only for a while (a stopped erasure needs a DELETE retry).
  followIfBusy(answer) {
    if (FINAL.has(answer.status)) return;
    if (answer.status === 'DELETING' && ++this.deletingPolls > DELETING_POLLS) {
      this.problem.replaceChildren(errorBox('The deletion has not finished. Press Delete answer to continue it.'));
      return;
    }
    this.poll();
  }

  renderAnswer(answer) {
    const reached = PIPELINE.indexOf(answer.status);
    const steps = PIPELINE.map((status, index) => {
      let state = '';
      if (reached > index || answer.status === 'ANALYZED') state = 'done';
      else if (reached === index) state = 'current';
      return h('li', { class: state }, status);
    });
    const parts = [
      h('h2', { id: 'answer-heading' }, 'Your answer'),
      h('p', {}, 'Status: ', h('span', { role: 'status', class: 'status-word' }, answer.status)),
      h('ol', { class: 'steps', 'aria-label': 'Progress' }, steps),
    ];
    if (answer.status === 'FAILED') {
      parts.push(errorBox(`Processing failed: ${answer.error || 'no reason given'}.`));
    } else if (answer.status === 'NO_SPEECH') {
      parts.push(h('p', { class: 'notice' }, 'No speech was heard in this recording. You can delete it and record again.'));
    } else if (answer.status === 'DELETING') {
      parts.push(h('p', { class: 'notice' }, 'This answer is being deleted. If it stays here, press Delete answer to finish the erasure.'));
    } else if (!FINAL.has(answer.status)) {
      parts.push(h('p', { class: 'muted' }, 'Processing… this page follows your answer as it goes.'));
    }
    if (answer.transcript !== null && answer.transcript !== undefined) {
      parts.push(
        h('h3', {}, 'Transcript'),
        h('div', { role: 'region', 'aria-label': 'Transcript', class: 'transcript' }, answer.transcript || '(empty)'),
      );
    }
    if (answer.sentiment) {
      parts.push(
        h('h3', {}, 'Sentiment'),
        h('div', { role: 'region', 'aria-label': 'Sentiment', class: 'sentiment' }, answer.sentiment),
      );
      if (answer.sentiment_score) parts.push(scoreBars(answer.sentiment_score));
    }
    const actions = h('div', { class: 'actions' });
    if (answer.status === 'FAILED') {
      actions.append(h('button', { type: 'button', onclick: () => this.showRecorder('Record your answer again.') }, 'Record again'));
    }
    // Also for DELETING: a DELETE retry continues an erasure that stopped halfway.
    actions.append(h('button', { type: 'button', class: 'danger', onclick: () => this.remove() }, 'Delete answer'));
    this.problem = h('div');
    parts.push(actions, this.problem);
    this.answerSection.replaceChildren(...parts);
  }

  poll() {
    this.stopPolling();
    this.pollTimer = setTimeout(async () => {
      let answer;
      try {
        answer = await this.api.answer(this.project, this.step);
      } catch (error) {
        if (error instanceof SignInExpired) return this.fail(error);
        if (error instanceof ApiError && error.status === 404) {
          // Gone after the API showed it: deleted (here or elsewhere). Before that, not visible yet after the upload.
          if (this.known) return this.showRecorder('Your answer was deleted. You may record a new one.');
          return this.poll();
        }
        this.problem.replaceChildren(errorBox(`${error.message} Still trying…`));
        return this.poll();
      }
      this.known = true;
      this.renderAnswer(answer);
      this.followIfBusy(answer);
    }, this.pollMs);
  }

  stopPolling() {
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  async remove() {
    if (!window.confirm('Delete your answer? The video, transcript and sentiment are erased.')) return;
    this.stopPolling();
    try {
      await this.api.deleteAnswer(this.project, this.step);
    } catch (error) {
      if (error instanceof SignInExpired) return this.fail(error);
      let message = error.message;
      if (error instanceof ApiError && error.status === 409 && error.retryAfter) {
        message += ` Try again in ${error.retryAfter} seconds.`;
      }
      this.problem.replaceChildren(errorBox(message));
      return;
    }
    this.showRecorder('Your answer was deleted. You may record a new one.');
  }
}

function scoreBars(score) {
  const rows = SCORES.flatMap((name) => {
    const value = Number(score[name]) || 0;
    return [
      h('span', { id: `score-${name}` }, name),
      h('div', { class: 'bar', role: 'img', 'aria-label': `${name} ${(value * 100).toFixed(0)} percent` },
        h('span', { style: { width: `${(value * 100).toFixed(1)}%` } })),
      h('span', { class: 'num' }, `${(value * 100).toFixed(0)} %`),
    ];
  });
  return h('div', { class: 'bars', 'aria-label': 'Scores', role: 'group' }, rows);
}
