// Drives the real tus-js-client (from npm, node_modules) against microcat: uploads FILE to
// node A, stops at about half, and resumes the same upload through node B. Prints one line of
// JSON: {"url": …, "stoppedAt": …, "mediaId": …}.
// Usage: node tests/tus_resume.js NODE_A NODE_B TOKEN WORK_ID FILE
'use strict';
const fs = require('fs');
const tus = require('tus-js-client');

const [nodeA, nodeB, token, workId, file] = process.argv.slice(2);
const data = fs.readFileSync(file);
const common = {
  chunkSize: 8 * 1024 * 1024,
  headers: { Authorization: `Bearer ${token}` },
  metadata: { work_id: workId, role: 'main', filename: 'master.mp4' },
  retryDelays: [0, 500, 1000],
};

function firstHalf() {
  return new Promise((resolve, reject) => {
    let stopped = false;
    const upload = new tus.Upload(data, {
      ...common,
      endpoint: `${nodeA}/api/v1/uploads`,
      onProgress(sent, total) {
        if (!stopped && sent >= total / 2 && upload.url) {
          stopped = true;
          upload.abort(false).then(() => resolve({ url: upload.url, stoppedAt: sent }));
        }
      },
      onSuccess: () => reject(new Error('finished before it could be interrupted')),
      onError: reject,
    });
    upload.start();
  });
}

function rest(url) {
  return new Promise((resolve, reject) => {
    let mediaId = null;
    const upload = new tus.Upload(data, {
      ...common,
      uploadUrl: url.replace(nodeA, nodeB),
      onAfterResponse(request, response) {
        mediaId = response.getHeader('Microcat-Media-Id') || mediaId;
      },
      onSuccess: () => resolve(mediaId),
      onError: reject,
    });
    upload.start();
  });
}

firstHalf()
  .then(({ url, stoppedAt }) => rest(url).then((mediaId) => ({ url, stoppedAt, mediaId })))
  .then((result) => console.log(JSON.stringify(result)))
  .catch((error) => {
    console.error(String(error));
    process.exit(1);
  });
