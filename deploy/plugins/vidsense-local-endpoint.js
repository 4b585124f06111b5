'use strict';

// Deploying the `local` stage to a local AWS endpoint (moto, the embedded stack: AWS_ENDPOINT_URL set): skip
// CloudFormation ValidateTemplate. moto runs cfn-lint on ValidateTemplate and rejects templates over mere
// warnings, and its TemplateURL points at the real S3 host. Any other stage is validated, also when
// AWS_ENDPOINT_URL happens to be set (a real deploy by someone who set it for another reason).

const LOCAL_STAGE = 'local';

class VidsenseLocalEndpoint {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.options = options || {};
    this.log = log;
    this.hooks = {
      'before:aws:deploy:deploy:validateTemplate': () => this.skipValidation(),
    };
  }

  stage() {
    // The stage the deploy runs for: --stage, else provider.stage, else the Framework's default ("dev").
    return this.serverless.getProvider('aws').getStage();
  }

  skipValidation() {
    const endpoint = process.env.AWS_ENDPOINT_URL;
    if (!endpoint || this.stage() !== LOCAL_STAGE) return;
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
