'use strict';

// serverless-python-requirements keeps one static cache folder per requirements hash, shared by the three
// services (same requirements). Compose packages them in parallel, and a process that finds another's
// half-built folder deletes it and starts over, so two cold packagings corrupt each other. This plugin
// serialises the requirements step across processes with a lock directory next to the cache.
// List it BEFORE serverless-python-requirements (hooks of one event run in plugin order).

const fs = require('fs');
const path = require('path');

const STALE_MS = 15 * 60 * 1000;
const POLL_MS = 250;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function holderAlive(lockDir) {
  let stat;
  try {
    stat = fs.statSync(lockDir);
  } catch (error) {
    return true; // released meanwhile: the next mkdir attempt decides
  }
  if (Date.now() - stat.mtimeMs > STALE_MS) return false;
  let pid;
  try {
    pid = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
  } catch (error) {
    return true; // the holder has not written its pid yet
  }
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

class VidsenseRequirementsLock {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    this.lockDir = null;
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.acquire(),
      'package:createDeploymentArtifacts': () => this.release(),
    };
    process.on('exit', () => this.release());
  }

  cacheDir() {
    const custom = this.serverless.service.custom || {};
    const location = custom.pythonRequirements && custom.pythonRequirements.cacheLocation;
    return location ? path.resolve(this.serverless.serviceDir, location) : null;
  }

  async acquire() {
    const cache = this.cacheDir();
    if (!cache) return;
    fs.mkdirSync(cache, { recursive: true });
    const lockDir = path.join(cache, '.lock');
    for (;;) {
      try {
        fs.mkdirSync(lockDir);
        fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
        this.lockDir = lockDir;
        return;
      } catch (error) {
        if (error.code !== 'EEXIST') throw error;
        if (!holderAlive(lockDir)) {
          // A crashed or finished-without-release holder: take over its lock.
          fs.rmSync(lockDir, { recursive: true, force: true });
          continue;
        }
        await sleep(POLL_MS);
      }
    }
  }

  release() {
    if (!this.lockDir) return;
    fs.rmSync(this.lockDir, { recursive: true, force: true });
    this.lockDir = null;
  }
}

module.exports = VidsenseRequirementsLock;
