'use strict';

// Puts the service's own Python package and the shared package at the ROOT of the deployment zip, so Lambda
// imports the handlers by their documented paths (ingest.handlers.api.handler) and `vidsense_shared` resolves.
// `package.patterns` cannot reach outside the service folder (shared/ lives two levels up) and would keep the
// `src/` prefix, so this plugin writes the artifact the Framework built afresh: exactly these trees. The
// dependencies are not in the zip: the Powertools layer provides them (provider.layers, requirements/lambda.txt).
//
// serverless.yml:
//   custom:
//     bundle:
//       - { from: src/ingest, to: ingest }
//       - { from: ../../shared/vidsense_shared, to: vidsense_shared }

const fs = require('fs');
const path = require('path');
const JSZip = require('jszip');

// Fixed timestamp: unchanged sources give a byte-identical zip (the Framework then skips the upload).
const EPOCH = new Date('2020-01-01T00:00:00Z');
const SKIP = /(^|\/)(__pycache__|\.mypy_cache|\.pytest_cache)(\/|$)|\.py[co]$/;

function listFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name)
    )) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full).split(path.sep).join('/');
      if (SKIP.test(rel)) continue;
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(rel);
    }
  };
  walk(root);
  return out;
}

class VidsenseBundle {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    serverless.configSchemaHandler.defineCustomProperties({
      type: 'object',
      properties: {
        bundle: {
          type: 'array',
          items: {
            type: 'object',
            properties: { from: { type: 'string' }, to: { type: 'string' } },
            required: ['from', 'to'],
            additionalProperties: false,
          },
        },
      },
    });
    this.hooks = {
      'after:package:createDeploymentArtifacts': () => this.bundleService(),
      'after:deploy:function:packageFunction': () => this.bundleService(),
    };
  }

  trees() {
    const spec = (this.serverless.service.custom && this.serverless.service.custom.bundle) || [];
    const serviceDir = this.serverless.serviceDir;
    return spec.map(({ from, to }) => {
      const source = path.resolve(serviceDir, from);
      if (!fs.existsSync(source) || !fs.statSync(source).isDirectory()) {
        throw new this.serverless.classes.Error(`custom.bundle: ${from} is not a directory`);
      }
      if (!fs.existsSync(path.join(source, '__init__.py'))) {
        throw new this.serverless.classes.Error(`custom.bundle: ${from} is not a Python package`);
      }
      return { source, target: to.replace(/\/+$/, '') };
    });
  }

  artifacts() {
    const { service } = this.serverless;
    if (service.package.individually) {
      return service
        .getAllFunctions()
        .map((name) => service.getFunction(name))
        .map((fn) => fn.package && fn.package.artifact)
        .filter(Boolean);
    }
    return [service.package.artifact].filter(Boolean);
  }

  async bundleService() {
    const trees = this.trees();
    if (trees.length === 0) return;
    for (const artifact of this.artifacts()) {
      const zipPath = path.resolve(this.serverless.serviceDir, artifact);
      const zip = new JSZip();
      let added = 0;
      for (const { source, target } of trees) {
        for (const rel of listFiles(source)) {
          const stat = fs.statSync(path.join(source, rel));
          zip.file(`${target}/${rel}`, fs.readFileSync(path.join(source, rel)), {
            createFolders: false,
            date: EPOCH,
            unixPermissions: stat.mode,
          });
          added += 1;
        }
      }
      const buffer = await zip.generateAsync({
        type: 'nodebuffer',
        platform: 'UNIX',
        compression: 'DEFLATE',
        compressionOptions: { level: 9 },
      });
      fs.writeFileSync(zipPath, buffer);
      if (this.log) {
        this.log.info(`vidsense-bundle: wrote ${added} files to ${path.basename(zipPath)}`);
      }
    }
  }
}

module.exports = VidsenseBundle;
