/* microcat web UI — progressive enhancement for the server-rendered pages.
 * Every feature first checks that its elements exist, so this one file is safe on every page.
 * The CSP forbids inline scripts and styles: everything here goes through the DOM/CSSOM, and
 * user-supplied text is only ever set with textContent. Vanilla ES2017, no dependencies. */
(function () {
  'use strict';

  const POLL_FAST_MS = 1500;
  const POLL_SLOW_MS = 5000;
  const POLL_SLOW_AFTER_MS = 60 * 1000;
  const POLL_GIVE_UP_MS = 15 * 60 * 1000;
  const MAX_PARALLEL_UPLOADS = 2;
  // Files from this size go up resumably (tus): a dropped link or a reload loses nothing sent.
  const RESUMABLE_FROM_BYTES = 32 * 1024 * 1024;
  const RESUMABLE_CHUNK_BYTES = 16 * 1024 * 1024;
  const KEY_SEEK_STEP_S = 5;
  const FALLBACK_MSG = { uploading: 'Uploading…', processing: 'Processing…', ready: 'Ready',
    failed: 'Failed', network: 'Network error', done: 'Uploaded', pause: 'Pause', resume: 'Resume', paused: 'Paused' };

  // A page restored from the back-forward cache shows state from before a form post: its
  // buttons would act on a version that moved on and blame "someone else". Load it afresh.
  window.addEventListener('pageshow', (event) => { if (event.persisted) window.location.reload(); });

  const $ = (selector, root) => (root || document).querySelector(selector);

  // The bell's unread count, on every page, kept fresh while the page is open.
  const bellCount = document.getElementById('bell-count');
  function refreshBell() {
    fetch('/api/v1/notifications?unread=true&per_page=1', { credentials: 'same-origin' })
      .then((response) => (response.ok ? response.json() : null))
      .then((inbox) => {
        if (!inbox) return;
        bellCount.textContent = inbox.unread > 99 ? '99+' : String(inbox.unread);
        bellCount.hidden = inbox.unread === 0;
      })
      .catch(() => {});
  }
  if (bellCount) {
    refreshBell();
    window.setInterval(refreshBell, 60 * 1000);
  }

  // On a phone the facets would fill the first screen: fold them under 筛选 (one tap away).
  const facetFold = document.getElementById('facet-fold');
  if (facetFold && window.matchMedia('(max-width: 760px)').matches) facetFold.open = false;
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  /** createElement with properties (className, id, textContent, hidden…) and attributes. */
  function make(tag, props, attrs) {
    const node = document.createElement(tag);
    Object.keys(props || {}).forEach((key) => { node[key] = props[key]; });
    Object.keys(attrs || {}).forEach((key) => node.setAttribute(key, attrs[key]));
    return node;
  }

  function ensureChild(parent, selector, tag, className) {
    let child = $(selector, parent);
    if (!child) child = parent.appendChild(make(tag, { className }));
    return child;
  }

  function csrfToken() {
    const meta = $('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : null;
  }

  /** Localised text: on #upload-form, or on #gallery for people who may view but not upload. */
  function msg(name) {
    const source = [$('#upload-form'), $('#gallery')].find((node) => node && node.hasAttribute(`data-msg-${name}`));
    return source ? source.getAttribute(`data-msg-${name}`) : FALLBACK_MSG[name] || '';
  }

  /** 83 → "01:23", 3723 → "1:02:03" (what comments and the scrubber show). */
  function formatClock(seconds) {
    const total = Math.max(0, Math.floor(seconds || 0));
    const pad = (n) => String(n).padStart(2, '0');
    const h = Math.floor(total / 3600), m = Math.floor(total / 60) % 60, s = total % 60;
    return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
  }

  /* ------------------------------------------------------------------ nav toggle (phones) */

  function initNavToggle() {
    const toggle = $('#nav-toggle'), nav = $('#mainnav');
    if (!toggle || !nav) return;
    toggle.addEventListener('click', () => {
      toggle.setAttribute('aria-expanded', String(nav.classList.toggle('open')));
    });
  }

  /* ------------------------------------------------------------------ gallery items & status polling */

  function kindOf(contentType) {
    const type = String(contentType || '');
    return type.startsWith('image/') ? 'image' : type.startsWith('video/') ? 'video' : 'other';
  }

  const isBusy = (status) => status === 'pending' || status === 'processing';

  /** The gallery entry for a medium, created (at the end of #gallery) for a fresh upload. */
  function galleryItem(mediaId) {
    let gallery = $('#gallery');
    if (!gallery) {
      // A work without media may have no gallery yet: give new items a home in section#media.
      const section = $('section#media') || ($('#upload-form') && $('#upload-form').parentNode);
      if (!section) return null;
      gallery = section.insertBefore(make('ul', { id: 'gallery' }), $('#upload-form', section));
    }
    const existing = $$('li.media-item', gallery).find((li) => li.getAttribute('data-media-id') === mediaId);
    if (existing) return existing;
    const empty = $('section#media .empty');
    if (empty) empty.hidden = true;
    return gallery.appendChild(make('li', { className: 'media-item' }, { 'data-media-id': mediaId }));
  }

  /** Brings one li.media-item in line with the media JSON from the API. */
  function applyMedia(li, media) {
    const kind = kindOf(media.content_type);
    if (media.original_filename) ensureChild(li, 'span.media-name', 'span', 'media-name').textContent = media.original_filename;
    li.setAttribute('data-status', media.status);
    li.setAttribute('data-kind', kind);
    const state = media.status === 'ready' || media.status === 'failed' ? media.status : 'processing';
    ensureChild(li, 'span.media-status', 'span', 'media-status').textContent = msg(state);

    const oldError = $('span.media-error', li);
    if (media.status === 'failed') {
      const text = (media.error && media.error.message) || msg('failed');
      ensureChild(li, 'span.media-error', 'span', 'media-error').textContent = text;
    } else if (oldError) {
      oldError.remove();
    }
    if (media.status === 'ready') {
      insertThumbnail(li, media);
      if (kind === 'video' && !$('#player')) createPlayer(media);
    }
  }

  function insertThumbnail(li, media) {
    if ($('img.thumb, a.media-original', li)) return; // already shows a preview (server-rendered or earlier poll)
    const link = make('a', { href: media.original_url });
    const src = (media.thumbnails && media.thumbnails.small) || media.poster;
    if (src) link.appendChild(make('img', { className: 'thumb', loading: 'lazy', alt: '', src }));
    else { link.className = 'media-original'; link.textContent = media.original_filename || media.original_url; }
    li.insertBefore(link, li.firstChild);
  }

  const polled = new Set();

  /** Polls one medium until it leaves pending/processing: every 1.5 s, after a minute every 5 s, gives up at 15 min. */
  function startPolling(li) {
    const id = li.getAttribute('data-media-id');
    if (!id || polled.has(id) || !isBusy(li.getAttribute('data-status'))) return;
    polled.add(id);
    const started = Date.now();
    const stop = () => polled.delete(id);

    function schedule() {
      const elapsed = Date.now() - started;
      if (elapsed > POLL_GIVE_UP_MS) return stop();
      setTimeout(tick, elapsed > POLL_SLOW_AFTER_MS ? POLL_SLOW_MS : POLL_FAST_MS);
    }

    function tick() {
      fetch(`/api/v1/media/${encodeURIComponent(id)}`,
        { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
        .then((response) => {
          // Deleted or no longer ours: further polling cannot succeed.
          if ([401, 403, 404].includes(response.status)) return null;
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return response.json();
        })
        .then((media) => {
          if (media) applyMedia(li, media);
          if (media && isBusy(media.status)) schedule(); else stop();
        })
        .catch(schedule); // network hiccup or 5xx: keep trying until the deadline
    }
    schedule();
  }

  /* ------------------------------------------------------------------ upload */

  function initUpload() {
    const form = $('#upload-form'), input = $('#file-input');
    if (!form || !input) return;
    // The drop zone (with its 选择文件 link) stands for the native picker from here on.
    form.classList.add('enhanced');
    const roleSelect = $('#upload-role');
    const list = $('#upload-list') || form.appendChild(make('ul', { id: 'upload-list' }));
    const url = form.getAttribute('data-upload-url') || form.action;
    const queue = [];
    let active = 0;

    function enqueue(files) {
      // The role is read now, so changing the select afterwards does not affect files already queued.
      Array.from(files).forEach((file) => queue.push({ file, role: roleSelect ? roleSelect.value : '', li: uploadItem(file) }));
      pump();
    }

    function uploadItem(file) {
      const li = make('li', { className: 'upload-item' });
      li.append(make('span', { className: 'upload-name', textContent: file.name }),
        make('progress', { max: 100, value: 0 }), make('span', { className: 'upload-status' }));
      return list.appendChild(li);
    }

    function pump() {
      while (active < MAX_PARALLEL_UPLOADS && queue.length) { active++; send(queue.shift()); }
    }

    function send(job) {
      if (window.tus && window.tus.isSupported && job.file.size >= RESUMABLE_FROM_BYTES) return sendResumable(job);
      const li = job.li;
      $('.upload-status', li).textContent = msg('uploading');
      const data = new FormData();
      data.append('role', job.role); // the server reads `role` before it streams the file
      data.append('file', job.file, job.file.name);
      const xhr = new XMLHttpRequest(); // not fetch: only XHR reports upload progress
      xhr.open('POST', url);
      xhr.setRequestHeader('Accept', 'application/json');
      const token = csrfToken();
      if (token) xhr.setRequestHeader('X-CSRF-Token', token);
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) $('progress', li).value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener('load', () => (xhr.status === 201 ? succeed(li, xhr) : fail(li, xhr)));
      ['error', 'timeout', 'abort'].forEach((type) => xhr.addEventListener(type, () => failWith(li, msg('network'))));
      xhr.addEventListener('loadend', () => { active--; pump(); }); // a failure never stops the rest
      xhr.send(data);
    }

    /** A large file through tus-js-client, with pause/resume; resumes an earlier attempt at the same file. */
    function sendResumable(job) {
      const li = job.li;
      const status = $('.upload-status', li);
      status.textContent = msg('uploading');
      const toggle = li.appendChild(make('button', { type: 'button', className: 'upload-pause', textContent: msg('pause') }));
      const token = csrfToken();
      const workId = form.getAttribute('data-work-id'), role = job.role || 'main';
      let mediaId = null;
      const finished = () => { toggle.remove(); active--; pump(); };
      const upload = new window.tus.Upload(job.file, {
        endpoint: '/api/v1/uploads',
        chunkSize: RESUMABLE_CHUNK_BYTES,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
        metadata: { work_id: workId, role, filename: job.file.name },
        headers: token ? { 'X-CSRF-Token': token } : {},
        removeFingerprintOnSuccess: true,
        onProgress: (sent, total) => { $('progress', li).value = Math.floor((sent / total) * 100); },
        onAfterResponse: (request, response) => { mediaId = response.getHeader('Microcat-Media-Id') || mediaId; },
        // No medium named: the server did not finish storing it (a retry finishes it).
        onSuccess: () => { finished(); if (mediaId) succeedWith(li, mediaId); else failWith(li, msg('network')); },
        onError: (error) => {
          finished();
          const response = error && error.originalResponse;
          if (!response) return failWith(li, msg('network'));
          fail(li, { responseText: response.getBody(), status: response.getStatus() });
        },
      });
      toggle.addEventListener('click', () => {
        const paused = toggle.getAttribute('data-paused') === '1';
        toggle.setAttribute('data-paused', paused ? '0' : '1');
        toggle.textContent = msg(paused ? 'pause' : 'resume');
        status.textContent = msg(paused ? 'uploading' : 'paused');
        if (paused) upload.start(); else upload.abort();
      });
      // Resume an earlier attempt at this file only if it was for this work and role.
      upload.findPreviousUploads().then((previous) => {
        const same = previous.find((earlier) => earlier.metadata && earlier.metadata.work_id === workId && earlier.metadata.role === role);
        if (same) upload.resumeFromPreviousUpload(same);
        upload.start();
      });
    }

    function succeedWith(li, mediaId) {
      $('progress', li).value = 100;
      li.classList.add('done');
      $('.upload-status', li).textContent = msg('done');
      const item = galleryItem(String(mediaId));
      item.setAttribute('data-status', 'processing'); // polled until processed, like a form upload
      startPolling(item);
    }

    function succeed(li, xhr) {
      $('progress', li).value = 100;
      li.classList.add('done');
      $('.upload-status', li).textContent = msg('done');
      const media = parseJson(xhr.responseText);
      const item = media && media.id != null ? galleryItem(String(media.id)) : null;
      if (!item) return;
      applyMedia(item, media);
      startPolling(item);
    }

    function fail(li, xhr) {
      const envelope = (parseJson(xhr.responseText) || {}).error || {};
      const local = envelope.code ? form.getAttribute(`data-msg-code-${envelope.code}`) : null;
      // The page's own words for the code (the API's English sentence never reaches the reader),
      // with the size limit it names, which reads the same in every language.
      const size = /\d+(?:\.\d+)?\s?[KMGT]iB/.exec(envelope.message || '');
      const words = local || `${msg('failed')}（${envelope.code || `HTTP ${xhr.status}`}）`;
      failWith(li, size ? `${words}（${size[0]}）` : words);
    }

    function failWith(li, text) {
      li.classList.add('failed');
      $('.upload-status', li).textContent = msg('failed');
      ensureChild(li, 'span.upload-error', 'span', 'upload-error').textContent = text;
    }

    function takeInputFiles() {
      if (!input.files || !input.files.length) return;
      enqueue(input.files);
      input.value = ''; // so that picking the same file again fires `change` again
    }

    input.addEventListener('change', takeInputFiles);
    // Without JS the form could post the file itself; with JS the queue does the work.
    form.addEventListener('submit', (e) => { e.preventDefault(); takeInputFiles(); });
    const zone = $('#drop-zone');
    if (zone) initDropZone(zone, input, enqueue);
  }

  function parseJson(text) {
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  function initDropZone(zone, input, enqueue) {
    const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
    const over = (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault(); // required for the drop event to fire
      e.dataTransfer.dropEffect = 'copy';
      zone.classList.add('dragover');
    };
    zone.addEventListener('dragenter', over);
    zone.addEventListener('dragover', over);
    zone.addEventListener('dragleave', (e) => {
      if (!zone.contains(e.relatedTarget)) zone.classList.remove('dragover');
    });
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('dragover');
      if (e.dataTransfer && e.dataTransfer.files.length) enqueue(e.dataTransfer.files);
    });
    zone.addEventListener('click', (e) => {
      if (e.target !== input && !e.target.closest('label, select, button, a')) input.click();
    });
    zone.addEventListener('keydown', (e) => {
      if (e.target !== zone || (e.key !== 'Enter' && e.key !== ' ')) return;
      e.preventDefault();
      input.click();
    });
    // A file dropped just beside the zone would otherwise make the browser navigate to it.
    ['dragover', 'drop'].forEach((type) => window.addEventListener(type, (e) => { if (hasFiles(e)) e.preventDefault(); }));
  }

  /* ------------------------------------------------------------------ player & storyboard scrubbing */

  function createPlayer(media) {
    const section = $('section#media') || ($('#gallery') && $('#gallery').parentNode);
    if (!section) return;
    const video = make('video', { id: 'player', controls: true, preload: 'metadata', src: media.playback_url || media.original_url },
      { playsinline: '' });
    if (media.poster) video.poster = media.poster;
    const scrubber = make('div', { id: 'scrubber', tabIndex: 0 }, { role: 'slider' });
    if (media.storyboard && media.storyboard.vtt) scrubber.setAttribute('data-vtt', media.storyboard.vtt);
    if (media.duration_ms != null) scrubber.setAttribute('data-duration-ms', String(media.duration_ms));
    const box = make('div', { id: 'player-box' });
    box.append(video, scrubber, make('div', { id: 'scrub-preview', hidden: true }));
    // At the start of the section, but below its heading if it begins with one.
    const first = section.firstElementChild;
    section.insertBefore(box, first && /^H[1-6]$/.test(first.tagName) ? first.nextSibling : section.firstChild);
    initScrubber();
    // The comment form can point at a moment of this cut now, without a reload.
    const mediaField = $('#comment-media'), timecodeField = $('#timecode-field');
    if (mediaField && !mediaField.value) mediaField.value = String(media.id);
    if (timecodeField) timecodeField.hidden = false;
  }

  const parseTimestamp = (text) => text.split(':').reduce((acc, part) => acc * 60 + parseFloat(part), 0);

  /** Storyboard cues; sprite URLs are resolved against the VTT's own URL (the server writes them relative). */
  function parseVtt(text, baseUrl) {
    const time = '((?:\\d+:)?\\d{1,2}:\\d{2}(?:\\.\\d+)?)';
    const cueLine = new RegExp(`^\\s*${time}\\s*-->\\s*${time}`);
    const lines = text.replace(/\r\n?/g, '\n').split('\n');
    const cues = [];
    lines.forEach((line, i) => {
      const times = cueLine.exec(line);
      const payload = times ? (lines[i + 1] || '').trim() : '';
      const match = /^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(payload);
      if (!match) return;
      let url;
      try { url = new URL(match[1], baseUrl).href; } catch (e) { return; }
      const [x, y, w, h] = match.slice(2).map(Number);
      cues.push({ start: parseTimestamp(times[1]), end: parseTimestamp(times[2]), url, x, y, w, h });
    });
    return cues;
  }

  function findCue(cues, t) {
    const last = cues[cues.length - 1];
    return cues.find((cue) => t >= cue.start && t < cue.end) || (last && t >= last.start ? last : null);
  }

  function loadCues(scrubber) {
    const vtt = scrubber.getAttribute('data-vtt');
    const url = vtt ? new URL(vtt, location.href) : null;
    if (!url || url.origin !== location.origin) return Promise.resolve([]);
    return fetch(url.href, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.text() : ''))
      .then((text) => parseVtt(text, url.href))
      .catch(() => []); // without a storyboard the bar still seeks, just without pictures
  }

  function initScrubber() {
    const player = $('#player'), scrubber = $('#scrubber'), preview = $('#scrub-preview');
    if (!player || !scrubber || scrubber.hasAttribute('data-js-bound')) return;
    scrubber.setAttribute('data-js-bound', '');
    const progress = ensureChild(scrubber, '.scrub-progress', 'div', 'scrub-progress');
    const label = preview && ensureChild(preview, 'span.scrub-time', 'span', 'scrub-time');
    let cues = [];
    let dragging = false;
    loadCues(scrubber).then((loaded) => { cues = loaded; });

    function duration() {
      if (isFinite(player.duration) && player.duration > 0) return player.duration;
      const ms = parseFloat(scrubber.getAttribute('data-duration-ms'));
      return ms > 0 ? ms / 1000 : 0;
    }

    function pointAt(clientX) {
      const rect = scrubber.getBoundingClientRect();
      const fraction = rect.width ? Math.min(1, Math.max(0, (clientX - rect.left) / rect.width)) : 0;
      return { t: fraction * duration(), offset: fraction * rect.width, rect };
    }

    function showPreview(at) {
      if (!preview) return;
      const cue = findCue(cues, at.t);
      const style = preview.style;
      preview.hidden = false;
      label.textContent = formatClock(at.t);
      preview.classList.toggle('time-only', !cue);
      style.width = cue ? `${cue.w}px` : '';
      style.height = cue ? `${cue.h}px` : '';
      style.backgroundImage = cue ? `url("${cue.url.replace(/["\\]/g, '\\$&')}")` : '';
      style.backgroundPosition = cue ? `-${cue.x}px -${cue.y}px` : '';
      const w = cue ? cue.w : preview.offsetWidth, h = cue ? cue.h : preview.offsetHeight;
      // Coordinates are relative to the preview's (CSS-positioned) parent; keep it above the bar, inside its ends.
      const parentRect = preview.parentElement.getBoundingClientRect();
      const within = Math.min(Math.max(at.offset - w / 2, 0), Math.max(0, at.rect.width - w));
      style.left = `${at.rect.left - parentRect.left + within}px`;
      style.top = `${at.rect.top - parentRect.top - h - 8}px`;
    }

    const hidePreview = () => { if (preview) preview.hidden = true; };

    function seek(t) {
      const d = duration();
      if (!d) return;
      player.currentTime = Math.min(Math.max(0, t), d);
      updateProgress();
    }

    function updateProgress() {
      const d = duration(), now = player.currentTime || 0;
      progress.style.width = `${d ? Math.min(100, (now / d) * 100) : 0}%`;
      scrubber.setAttribute('aria-valuemin', '0');
      scrubber.setAttribute('aria-valuemax', String(Math.round(d)));
      scrubber.setAttribute('aria-valuenow', String(Math.round(now)));
      scrubber.setAttribute('aria-valuetext', `${formatClock(now)} / ${formatClock(d)}`);
    }

    scrubber.addEventListener('pointermove', (e) => {
      const at = pointAt(e.clientX);
      showPreview(at);
      if (dragging) seek(at.t);
    });
    scrubber.addEventListener('pointerdown', (e) => {
      if (e.pointerType === 'mouse' && e.button !== 0) return;
      e.preventDefault(); // no text selection while dragging
      dragging = true;
      scrubber.setPointerCapture(e.pointerId); // keep receiving moves when the finger leaves the thin bar
      const at = pointAt(e.clientX);
      showPreview(at);
      seek(at.t);
      scrubber.focus({ preventScroll: true });
    });
    const endDrag = (e) => {
      if (!dragging) return;
      dragging = false;
      if (scrubber.hasPointerCapture(e.pointerId)) scrubber.releasePointerCapture(e.pointerId);
      if (e.pointerType !== 'mouse') hidePreview(); // touch and pen have no hover to keep it useful
    };
    scrubber.addEventListener('pointerup', endDrag);
    scrubber.addEventListener('pointercancel', endDrag);
    scrubber.addEventListener('pointerleave', () => { if (!dragging) hidePreview(); });

    scrubber.addEventListener('keydown', (e) => {
      const now = player.currentTime || 0;
      const target = { ArrowLeft: now - KEY_SEEK_STEP_S, ArrowRight: now + KEY_SEEK_STEP_S, Home: 0, End: duration() }[e.key];
      if (target === undefined) return;
      e.preventDefault(); // keep the page from scrolling
      seek(target);
    });

    ['timeupdate', 'durationchange', 'loadedmetadata', 'seeked'].forEach((type) => player.addEventListener(type, updateProgress));
    updateProgress();
  }


  /* ------------------------------------------------------------------ film review: previews, frames, drawings */

  /** While a needed preview is made, the page shows the poster and its progress, then loads it. */
  function initPreviewWait() {
    const wait = $('#preview-wait'), player = $('#player');
    if (!wait || !player) return;
    const url = wait.getAttribute('data-media-url'), percent = $('#preview-percent');
    const poll = () => fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then((r) => (r.ok ? r.json() : null))
      .then((media) => {
        if (!media) return setTimeout(poll, 4000);
        const preview = media.preview || {};
        if (preview.status === 'pending' || preview.status === 'processing') {
          if (percent) percent.textContent = `${preview.progress || 0}%`;
          return setTimeout(poll, 2000);
        }
        player.src = media.playback_url;
        player.load();
        wait.remove();
      })
      .catch(() => setTimeout(poll, 4000));
    setTimeout(poll, 1000);
  }

  const fpsOf = () => parseFloat(($('#player-box') || document.body).getAttribute('data-fps')) || 0;
  /** The frame on screen at `seconds` (frame 0 starts at 0). */
  const frameAt = (seconds, fps) => Math.floor(seconds * fps + 1e-6);

  /** The picture's rectangle inside the video element (the element letterboxes it). */
  function pictureRect(video) {
    const w = video.clientWidth, h = video.clientHeight;
    const vw = video.videoWidth || w, vh = video.videoHeight || h;
    const scale = Math.min(w / vw, h / vh);
    const dw = vw * scale, dh = vh * scale;
    return { x: (w - dw) / 2, y: (h - dh) / 2, w: dw, h: dh };
  }

  const drawing = { shapes: [], shown: null, tool: null, current: null };

  function sizeCanvas() {
    const canvas = $('#drawing-layer'), video = $('#player');
    if (!canvas || !video) return null;
    const ratio = window.devicePixelRatio || 1;
    canvas.style.width = `${video.clientWidth}px`;
    canvas.style.height = `${video.clientHeight}px`;
    canvas.width = Math.round(video.clientWidth * ratio);
    canvas.height = Math.round(video.clientHeight * ratio);
    const context = canvas.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    return context;
  }

  function paint() {
    const context = sizeCanvas(), video = $('#player');
    if (!context) return;
    const shapes = (drawing.shown ? drawing.shown.shapes : []).concat(drawing.shapes, drawing.current ? [drawing.current] : []);
    const r = pictureRect(video);
    const X = (x) => r.x + x * r.w, Y = (y) => r.y + y * r.h;
    context.lineWidth = 3;
    context.strokeStyle = '#ff3b30';
    context.fillStyle = '#ff3b30';
    shapes.forEach((shape) => {
      context.beginPath();
      if (shape.type === 'rect') context.strokeRect(X(shape.x), Y(shape.y), shape.w * r.w, shape.h * r.h);
      if (shape.type === 'path') {
        shape.points.forEach(([x, y], i) => (i ? context.lineTo(X(x), Y(y)) : context.moveTo(X(x), Y(y))));
        context.stroke();
      }
      if (shape.type === 'arrow') {
        const [x1, y1, x2, y2] = [X(shape.x1), Y(shape.y1), X(shape.x2), Y(shape.y2)];
        const angle = Math.atan2(y2 - y1, x2 - x1), head = 14;
        context.moveTo(x1, y1); context.lineTo(x2, y2); context.stroke();
        context.beginPath();
        context.moveTo(x2, y2);
        context.lineTo(x2 - head * Math.cos(angle - 0.45), y2 - head * Math.sin(angle - 0.45));
        context.lineTo(x2 - head * Math.cos(angle + 0.45), y2 - head * Math.sin(angle + 0.45));
        context.closePath(); context.fill();
      }
    });
  }

  /** Reopens a comment's frame: pause, seek to the middle of the frame, show its drawing. */
  function openComment(item, seconds) {
    const player = $('#player');
    if (!player) return;
    $$('#comment-list li.selected').forEach((li) => li.classList.remove('selected'));
    if (item) item.classList.add('selected');
    let shown = null;
    try { shown = item && item.getAttribute('data-drawing') ? JSON.parse(item.getAttribute('data-drawing')) : null; } catch (e) { shown = null; }
    drawing.shown = shown;
    player.pause();
    player.currentTime = seconds;
    player.addEventListener('seeked', paint, { once: true });
    paint();
  }

  function initFrames() {
    const player = $('#player');
    if (!player) return;
    window.addEventListener('resize', paint);
    ['loadedmetadata', 'play'].forEach((type) => player.addEventListener(type, () => {
      if (type === 'play') drawing.shown = null;
      paint();
    }));
    if (window.ResizeObserver) new ResizeObserver(paint).observe(player);
    const hash = /^#t=([\d.]+)$/.exec(location.hash);
    if (hash) {
      const seek = () => { player.currentTime = parseFloat(hash[1]); };
      if (player.readyState >= 1) seek(); else player.addEventListener('loadedmetadata', seek, { once: true });
    }
    initDrawTools(player);
  }

  function normalised(event, video) {
    const box = video.getBoundingClientRect(), r = pictureRect(video);
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return [clamp((event.clientX - box.left - r.x) / r.w), clamp((event.clientY - box.top - r.y) / r.h)];
  }

  function initDrawTools(player) {
    const tools = $('#draw-tools'), canvas = $('#drawing-layer'), field = $('#comment-drawing');
    if (!tools || !canvas || !field) return;
    const show = () => { tools.hidden = !player.paused || !player.videoWidth; };
    ['pause', 'play', 'loadedmetadata', 'seeked'].forEach((type) => player.addEventListener(type, show));
    show();
    const save = () => {
      field.value = drawing.shapes.length ? JSON.stringify({ shapes: drawing.shapes }) : '';
      const timecode = $('#comment-timecode'), frame = $('#comment-frame'), fps = fpsOf();
      if (drawing.shapes.length && timecode && !timecode.value) timecode.value = formatClock(player.currentTime);
      if (drawing.shapes.length && frame && fps) frame.value = String(frameAt(player.currentTime, fps));
    };
    tools.addEventListener('click', (e) => {
      const button = e.target.closest('button[data-tool]');
      if (!button) return;
      const tool = button.getAttribute('data-tool');
      if (tool === 'clear') { drawing.shapes = []; drawing.tool = null; save(); }
      else drawing.tool = drawing.tool === tool ? null : tool;
      $$('button[data-tool]', tools).forEach((b) => b.setAttribute('aria-pressed', String(b.getAttribute('data-tool') === drawing.tool)));
      canvas.classList.toggle('drawing', Boolean(drawing.tool));
      paint();
    });
    let start = null;
    canvas.addEventListener('pointerdown', (e) => {
      if (!drawing.tool) return;
      start = normalised(e, player);
      canvas.setPointerCapture(e.pointerId);
      drawing.current = drawing.tool === 'path' ? { type: 'path', points: [start] } : null;
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!start) return;
      const [x, y] = normalised(e, player);
      if (drawing.tool === 'path') drawing.current.points.push([x, y]);
      if (drawing.tool === 'rect') drawing.current = { type: 'rect', x: Math.min(start[0], x), y: Math.min(start[1], y), w: Math.abs(x - start[0]), h: Math.abs(y - start[1]) };
      if (drawing.tool === 'arrow') drawing.current = { type: 'arrow', x1: start[0], y1: start[1], x2: x, y2: y };
      paint();
    });
    const finish = () => {
      if (!start) return;
      start = null;
      const shape = drawing.current;
      drawing.current = null;
      if (shape && (shape.type !== 'path' || shape.points.length > 1)) drawing.shapes.push(shape);
      save();
      paint();
    };
    canvas.addEventListener('pointerup', finish);
    canvas.addEventListener('pointercancel', finish);
  }


  /* ------------------------------------------------------------------ compare two cuts on one clock */

  /**
   * Side A leads; side B follows at A's time plus the offset difference. Small drift is
   * absorbed by nudging B's playback rate, larger drift by a seek, so both stay within a frame.
   */
  function initCompare() {
    const box = $('#compare');
    if (!box) return;
    const sides = $$('.compare-side', box).map((side) => ({ video: $('video', side), offset: $('input.offset', side), root: side }));
    $$('select.auto-submit', box).forEach((select) => select.addEventListener('change', () => select.form.submit()));
    if (sides.length !== 2 || sides.some((side) => !side.video)) return;
    const [lead, follow] = sides;
    const fps = parseFloat(box.getAttribute('data-fps')) || 25;
    const offsetOf = (side) => parseFloat(side.offset.value) || 0;
    const button = $('#compare-play'), seek = $('#compare-seek'), time = $('#compare-time');
    const clockNow = () => lead.video.currentTime - offsetOf(lead);
    const show = () => {
      const longest = Math.max(...sides.map((side) => (isFinite(side.video.duration) ? side.video.duration - offsetOf(side) : 0)));
      seek.max = String(Math.max(0, longest));
      seek.value = String(Math.max(0, clockNow()));
      time.textContent = formatClock(Math.max(0, clockNow()));
      button.textContent = lead.video.paused ? button.getAttribute('data-play') : button.getAttribute('data-pause');
    };
    const place = (clock) => {
      sides.forEach((side) => {
        side.video.currentTime = Math.max(0, clock + offsetOf(side));
        side.video.playbackRate = 1;
      });
      show();
    };
    button.addEventListener('click', () => {
      if (lead.video.paused) {
        place(clockNow());
        Promise.all(sides.map((side) => side.video.play())).catch(() => sides.forEach((side) => side.video.pause()));
      } else {
        sides.forEach((side) => side.video.pause());
        place(clockNow());
      }
    });
    seek.addEventListener('input', () => place(parseFloat(seek.value) || 0));
    sides.forEach((side) => side.offset.addEventListener('change', () => place(clockNow())));
    $$('a.compare-timecode', box).forEach((link) => link.addEventListener('click', (e) => {
      e.preventDefault();
      const side = sides.find((candidate) => candidate.root.contains(link));
      sides.forEach((other) => other.video.pause());
      place(parseFloat(link.getAttribute('data-seconds')) - offsetOf(side));
    }));
    ['loadedmetadata', 'timeupdate', 'pause', 'play'].forEach((type) => lead.video.addEventListener(type, show));
    lead.video.addEventListener('ended', () => follow.video.pause());
    const keepInStep = () => {
      if (!lead.video.paused && !follow.video.seeking) {
        const drift = follow.video.currentTime - (clockNow() + offsetOf(follow));
        if (Math.abs(drift) > 0.5) follow.video.currentTime = clockNow() + offsetOf(follow);
        else if (Math.abs(drift) > 0.25 / fps) follow.video.playbackRate = 1 - Math.max(-0.3, Math.min(0.3, drift * 8));
        else follow.video.playbackRate = 1;
      }
      requestAnimationFrame(keepInStep);
    };
    requestAnimationFrame(keepInStep);
  }


  /* ------------------------------------------------------------------ archive import (admins) */

  /** Upload → dry run shown → confirm → progress polled → report; all through /api/v1/imports. */
  function initImport() {
    const form = $('#import-form');
    if (!form) return;
    const status = $('#import-status'), texts = $('#import-texts');
    const text = (key) => texts.getAttribute(`data-${key}`) || key;
    const say = (message) => { status.textContent = message; };
    const headers = () => {
      const token = csrfToken();
      return token ? { 'X-CSRF-Token': token, Accept: 'application/json' } : { Accept: 'application/json' };
    };
    const problemLine = (problem) => problem.row ? `${problem.file} ${text('row').replace('{}', problem.row)}：${problem.reason}` : `${problem.file}：${problem.reason}`;
    let jobId = null;

    const showPreview = (job) => {
      const preview = job.preview;
      $('#import-counts').textContent = `${text('create')} ${preview.created} · ${text('known')} ${preview.unchanged + preview.updated} · ${text('failed')} ${preview.problems.length}`;
      const body = $('#import-sample tbody');
      body.textContent = '';
      job.sample.forEach((row) => {
        const tr = make('tr');
        [row.title, row.kind, formatBeijing(row.published_at), row.platform, row.metrics].forEach((value) => tr.appendChild(make('td', { textContent: value })));
        body.appendChild(tr);
      });
      const list = $('#import-problems');
      list.textContent = '';
      preview.problems.slice(0, 100).forEach((problem) => list.appendChild(make('li', { textContent: problemLine(problem) })));
      if (!preview.problems.length) list.appendChild(make('li', { textContent: text('none') }));
      $('#import-preview').hidden = false;
      $('#import-run').disabled = preview.created + preview.updated === 0;
    };

    const poll = () => fetch(`/api/v1/imports/${jobId}`, { credentials: 'same-origin', headers: headers() })
      .then((r) => r.json())
      .then((job) => {
        const bar = $('#import-bar');
        bar.max = Math.max(1, job.total);
        bar.value = job.done;
        $('#import-done').textContent = `${job.done} / ${job.total}`;
        if (job.phase === 'running' || job.phase === 'previewed') return setTimeout(poll, 500);
        const result = job.result;
        if (result) {
          $('#import-result').textContent = `${text('created')} ${result.created} · ${text('updated')} ${result.updated} · ${text('unchanged')} ${result.unchanged} · ${text('failed')} ${result.problems.length}`;
          const report = $('#import-report');
          report.href = `/api/v1/imports/${jobId}/report`;
          report.hidden = false;
        } else {
          $('#import-result').textContent = `${form.getAttribute('data-msg-failed')}：${job.error || ''}`;
        }
        say('');
        return null;
      })
      .catch(() => setTimeout(poll, 2000));

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      say(form.getAttribute('data-msg-checking'));
      $('#import-preview').hidden = true;
      $('#import-progress').hidden = true;
      fetch('/api/v1/imports', { method: 'POST', body: new FormData(form), credentials: 'same-origin', headers: headers() })
        .then((r) => r.json().then((body) => ({ ok: r.ok, status: r.status, body })))
        .then(({ ok, status: code, body }) => {
          if (!ok) {
            const message = code === 413 ? form.getAttribute('data-msg-too-large') : (body.error && body.error.message) || form.getAttribute('data-msg-failed');
            return say(message);
          }
          jobId = body.id;
          say('');
          return showPreview(body);
        })
        .catch(() => say(form.getAttribute('data-msg-network')));
    });

    $('#import-run').addEventListener('click', () => {
      if (!jobId) return;
      $('#import-run').disabled = true;
      $('#import-progress').hidden = false;
      say(form.getAttribute('data-msg-running'));
      fetch(`/api/v1/imports/${jobId}/run`, { method: 'POST', credentials: 'same-origin', headers: headers() })
        .then(() => poll())
        .catch(() => say(form.getAttribute('data-msg-network')));
    });
  }

  /** An RFC 3339 time as Beijing wall-clock time, `2024-05-01 08:30`. */
  function formatBeijing(iso) {
    const at = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
    return isNaN(at) ? '' : at.toISOString().slice(0, 16).replace('T', ' ');
  }

  /* ------------------------------------------------------------------ comment timecodes */

  function initTimecodes() {
    document.addEventListener('click', (e) => {
      const link = e.target.closest && e.target.closest('a.timecode');
      const player = $('#player');
      if (!link || !player) return; // without a player the #t= link stays an ordinary link
      const seconds = parseFloat(link.getAttribute('data-seconds'));
      if (!isFinite(seconds)) return;
      e.preventDefault();
      openComment(link.closest('li.comment'), seconds);
      const calm = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
      player.scrollIntoView({ behavior: calm ? 'auto' : 'smooth', block: 'center' });
      if (!player.hasAttribute('tabindex')) player.tabIndex = -1;
      player.focus({ preventScroll: true });
    });

    const button = $('#use-current-time'), field = $('#comment-timecode');
    if (!button || !field) return;
    // A timecode typed by hand replaces the frame taken from the player.
    field.addEventListener('input', (e) => { if (e.isTrusted && $('#comment-frame')) $('#comment-frame').value = ''; });
    button.addEventListener('click', () => {
      const player = $('#player'); // looked up now: an upload may have created it since
      if (!player) return;
      field.value = formatClock(player.currentTime);
      field.dispatchEvent(new Event('input', { bubbles: true }));
      const frame = $('#comment-frame'), fps = fpsOf();
      if (frame && fps) frame.value = String(frameAt(player.currentTime, fps));
      field.focus();
    });
  }

  /* ------------------------------------------------------------------ confirmations & double-submit guard */

  function initSubmitGuards() {
    let lastClicked = null; // for browsers without SubmitEvent.submitter
    document.addEventListener('click', (e) => {
      const button = e.target.closest && e.target.closest('button, input[type=submit]');
      if (button && button.form) lastClicked = button;
    }, true);

    document.addEventListener('submit', (e) => {
      const form = e.target;
      const submitter = 'submitter' in e ? e.submitter : (lastClicked && lastClicked.form === form ? lastClicked : null);
      lastClicked = null;
      // reject/decline buttons carry data-confirm; only ask when the template provides the question.
      if (submitter && submitter.hasAttribute('data-confirm') && !window.confirm(submitter.getAttribute('data-confirm'))) {
        e.preventDefault();
        return;
      }
      if (!e.defaultPrevented && (form.getAttribute('method') || 'get').toLowerCase() !== 'get') disableSubmitButtons(form, submitter);
    });

    // A page restored from the back/forward cache must not come back with dead buttons.
    window.addEventListener('pageshow', (e) => {
      if (!e.persisted) return;
      $$('input.js-submitter').forEach((input) => input.remove());
      $$('[data-js-disabled]').forEach((button) => {
        button.disabled = false;
        button.removeAttribute('data-js-disabled');
      });
    });
  }

  /** Disabled buttons are left out of the form data, so the clicked one's name/value travels in a hidden input. */
  function disableSubmitButtons(form, submitter) {
    $$('input.js-submitter', form).forEach((input) => input.remove());
    if (submitter && submitter.name) {
      form.appendChild(make('input', { type: 'hidden', className: 'js-submitter', name: submitter.name, value: submitter.value }));
    }
    $$('button:not([type=button]):not([type=reset]), input[type=submit]', form).forEach((button) => {
      if (button.disabled) return;
      button.disabled = true; // synchronously, before the browser collects the form data
      button.setAttribute('data-js-disabled', '');
    });
  }

  /* ------------------------------------------------------------ compliance */

  /** The findings panel: "show" selects the finding in its field (offsets are UTF-16, as a
   *  textarea counts), "override…" opens its dialog, and a word list file fills the terms. */
  function initCompliance() {
    $$('button.locate').forEach((button) => {
      button.addEventListener('click', () => {
        const field = document.getElementById(button.dataset.target);
        const from = Number(button.dataset.from);
        const to = Number(button.dataset.to);
        if (field && typeof field.setSelectionRange === 'function') {
          field.focus();
          field.setSelectionRange(from, to);
          field.scrollIntoView({ block: 'center' });
          return;
        }
        const text = document.getElementById('work-' + button.dataset.target);
        if (text) text.scrollIntoView({ block: 'center' });
      });
    });
    $$('button.override').forEach((button) => {
      const dialog = document.getElementById(button.dataset.dialog);
      if (!dialog || typeof dialog.showModal !== 'function') return;
      button.addEventListener('click', () => {
        dialog.showModal();
        const reason = $('textarea', dialog);
        if (reason) reason.focus();
      });
      $$('.close-dialog', dialog).forEach((close) => close.addEventListener('click', () => dialog.close()));
    });
    $$('input[type=file][data-into]').forEach((input) => {
      input.addEventListener('change', () => {
        const target = document.getElementById(input.dataset.into);
        const file = input.files && input.files[0];
        if (!target || !file) return;
        file.text().then((text) => { target.value = text.replace(/^\uFEFF/, ''); });
      });
    });
  }

  /* ------------------------------------------------------------------ boot */

  function boot() {
    initNavToggle();
    initUpload();
    $$('#gallery li.media-item').forEach(startPolling);
    initScrubber();
    initTimecodes();
    initPreviewWait();
    initFrames();
    initCompare();
    initImport();
    initSubmitGuards();
    initCompliance();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
