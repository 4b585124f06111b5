'use strict';

// serverless-iam-roles-per-function gives each function its own role but leaves the Framework's shared
// IamRoleLambdaExecution in the template, unused, with permissions over every function's log group.
// Remove it when no resource refers to it any more, so the stack holds only the per-function roles.
// Must be listed after serverless-iam-roles-per-function (both hook before:package:finalize).
//
// It also gives every role of the stack (the per-function roles, the service's own `resources:` roles such as
// transcode's MediaConvert and Transcribe roles, any role added later) the permissions boundary named by the
// stage parameter `permissionsBoundaryArn` (`custom.permissionsBoundaryArn`): a pipeline deploys with its
// boundary, and its deploy role can create no role without it (pipelines/deploy_policy.py). Empty (local stage,
// tests, a deploy by an administrator without one): no boundary.

const ROLE = 'IamRoleLambdaExecution';

function refersTo(value, logicalId) {
  if (!value || typeof value !== 'object') return false;
  if (value.Ref === logicalId) return true;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[0] === logicalId) return true;
  if (typeof value['Fn::Sub'] === 'string' && value['Fn::Sub'].includes(`\${${logicalId}`)) return true;
  return Object.values(value).some((v) => refersTo(v, logicalId));
}

class VidsenseIamTidy {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:package:finalize': () => this.pruneSharedRole(),
      // After the service's own `resources:` are merged in, before the template is written.
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.applyPermissionsBoundary(),
    };
  }

  applyPermissionsBoundary() {
    const boundary = (this.serverless.service.custom || {}).permissionsBoundaryArn;
    if (!boundary) return;
    if (typeof boundary !== 'string' || !boundary.startsWith('arn:')) {
      throw new this.serverless.classes.Error(
        `permissionsBoundaryArn must be the ARN of a managed policy, got ${JSON.stringify(boundary)}`
      );
    }
    const { Resources: resources } = this.serverless.service.provider.compiledCloudFormationTemplate;
    for (const resource of Object.values(resources)) {
      if (resource.Type === 'AWS::IAM::Role') {
        resource.Properties = { ...resource.Properties, PermissionsBoundary: boundary };
      }
    }
  }

  pruneSharedRole() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const { Resources: resources } = template;
    if (!resources[ROLE]) return;
    const users = Object.entries(resources).filter(([id, resource]) => {
      if (id === ROLE) return false;
      const dependsOn = [].concat(resource.DependsOn || []);
      return dependsOn.includes(ROLE) || refersTo(resource.Properties, ROLE);
    });
    const outputs = Object.values(template.Outputs || {}).some((output) => refersTo(output, ROLE));
    if (users.length === 0 && !outputs) delete resources[ROLE];
  }
}

module.exports = VidsenseIamTidy;
