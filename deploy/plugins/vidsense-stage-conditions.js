'use strict';

// Decides, when packaging, the CloudFormation Conditions listed in `custom.stageConditions`: conditions that
// depend on stage parameters only (the Framework has already put the values in), such as
// `UseCognito: !Equals ['<identity>', 'cognito']`. Resources and outputs under a false condition leave the
// template, `Fn::If` on it becomes the chosen branch and the condition itself goes. So a stage with
// `identity: external` packages no Cognito resources at all, and the authorizer's issuer and audience are plain
// values the local stack can read. Without this plugin the template would still be valid CloudFormation.

class StageConditionError extends Error {}

function evaluate(expression, conditions, seen) {
  if (typeof expression === 'string' || typeof expression === 'number' || typeof expression === 'boolean') {
    return expression;
  }
  if (!expression || typeof expression !== 'object') {
    throw new StageConditionError(`cannot decide ${JSON.stringify(expression)}`);
  }
  const [[fn, args]] = Object.entries(expression);
  switch (fn) {
    case 'Fn::Equals':
      return String(evaluate(args[0], conditions, seen)) === String(evaluate(args[1], conditions, seen));
    case 'Fn::Not':
      return !evaluate(args[0], conditions, seen);
    case 'Fn::And':
      return args.every((arg) => evaluate(arg, conditions, seen));
    case 'Fn::Or':
      return args.some((arg) => evaluate(arg, conditions, seen));
    case 'Condition':
      return decide(args, conditions, seen);
    default:
      throw new StageConditionError(`${fn} depends on more than stage parameters`);
  }
}

function decide(name, conditions, seen = new Set()) {
  if (seen.has(name)) throw new StageConditionError(`condition ${name} refers to itself`);
  if (!conditions[name]) throw new StageConditionError(`condition ${name} is not defined`);
  return Boolean(evaluate(conditions[name], conditions, new Set([...seen, name])));
}

function resolveIfs(value, decided) {
  if (Array.isArray(value)) return value.map((item) => resolveIfs(item, decided));
  if (!value || typeof value !== 'object') return value;
  const branches = value['Fn::If'];
  if (Array.isArray(branches) && Object.keys(value).length === 1 && branches[0] in decided) {
    return resolveIfs(decided[branches[0]] ? branches[1] : branches[2], decided);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveIfs(v, decided)]));
}

function applyConditions(template, names) {
  const conditions = template.Conditions || {};
  const decided = {};
  for (const name of names) decided[name] = decide(name, conditions);
  for (const section of ['Resources', 'Outputs']) {
    const entries = template[section] || {};
    for (const [id, entry] of Object.entries(entries)) {
      if (!(entry.Condition in decided)) continue;
      if (decided[entry.Condition]) delete entry.Condition;
      else delete entries[id];
    }
    template[section] = resolveIfs(entries, decided);
  }
  for (const name of names) delete conditions[name];
  if (template.Conditions && Object.keys(template.Conditions).length === 0) delete template.Conditions;
  return decided;
}

class VidsenseStageConditions {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      // After the service's `resources` are merged into the compiled template, before it is written.
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.decide(),
    };
  }

  decide() {
    const names = (this.serverless.service.custom || {}).stageConditions || [];
    if (names.length === 0) return;
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    try {
      applyConditions(template, names);
    } catch (error) {
      if (!(error instanceof StageConditionError)) throw error;
      throw new this.serverless.classes.Error(`custom.stageConditions: ${error.message}`);
    }
  }
}

module.exports = VidsenseStageConditions;
module.exports.applyConditions = applyConditions;
