'use strict';

// Deploying to a local AWS endpoint (moto, the embedded stack): when AWS_ENDPOINT_URL is set, skip
// CloudFormation ValidateTemplate. moto runs cfn-lint on ValidateTemplate and rejects templates over mere
// warnings, and its TemplateURL points at the real S3 host. Real AWS deployments (no AWS_ENDPOINT_URL) are untouched.

class VidsenseLocalEndpoint {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    this.hooks = {
      'before:aws:deploy:deploy:validateTemplate': () => this.skipValidation(),
    };
  }

  skipValidation() {
    const endpoint = process.env.AWS_ENDPOINT_URL;
    if (!endpoint) return;
    const deploy = this.serverless.pluginManager.plugins.find(
      (plugin) => plugin.constructor && plugin.constructor.name === 'AwsDeploy'
    );
    if (!deploy) {
      throw new this.serverless.classes.Error('vidsense-local-endpoint: AwsDeploy plugin not found');
    }
    deploy.validateTemplate = async () => {};
    if (this.log) this.log.info(`vidsense-local-endpoint: ValidateTemplate skipped for ${endpoint}`);
  }
}

module.exports = VidsenseLocalEndpoint;
