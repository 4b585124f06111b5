'use strict';

// Puts the service's own Python package and the shared package at the ROOT of the deployment zip, so Lambda
// imports the handlers by their documented paths (ingest.handlers.api.handler) and `vidsense_shared` resolves.
// `package.patterns` cannot reach outside the service folder (shared/ lives two levels up) and would keep the
// `src/` prefix, so this plugin adds the trees to the artifact the Framework built, the same way
// serverless-python-requirements adds the dependencies (it runs in the same hook).
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
// Files of the dependencies no function loads, left out of every zip (docs/deploy.md, package size): package
// metadata (no import of the handlers reads it: tests/integration/deploy/test_package_size.py imports each one from
// the extracted zip alone), type stubs, and Powertools' Swagger UI bundle (1.7 MB; the API serves no Swagger page).
const NEVER_LOADED = [
  /^[^/]+\.dist-info\//,
  /\.pyi$/,
  /^[^/]+-stubs\//,
  /^aws_lambda_powertools\/event_handler\/openapi\/swagger_ui\/[^/]+\.min\.(js|css)$/,
];

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
      const zip = await JSZip.loadAsync(fs.readFileSync(zipPath));
      let added = 0;
      const leftOut = Object.keys(zip.files).filter((name) => NEVER_LOADED.some((rule) => rule.test(name)));
      for (const name of leftOut) zip.remove(name);
      for (const { source, target } of trees) {
        // A stale copy of the same package in the zip would shadow nothing but confuse readers: replace it.
        zip.remove(target);
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
        this.log.info(
          `vidsense-bundle: added ${added} files to ${path.basename(zipPath)}, left out ${leftOut.length}`
        );
      }
    }
  }
}

module.exports = VidsenseBundle;
