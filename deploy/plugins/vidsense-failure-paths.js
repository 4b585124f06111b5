'use strict';

// Gives every asynchronous consumer of a service both failure paths, the same way in every stack:
//   - delivery failures: an SQS dead-letter queue on the trigger (EventBridge rule target DeadLetterConfig with
//     a RetryPolicy, SNS subscription RedrivePolicy; for S3 notifications, which have no DLQ of their own, the
//     function's DeadLetterConfig), reachable by the AWS service through a queue policy;
//   - processing failures: Lambda asynchronous retries (maximumRetryAttempts/maximumEventAge) and an on-failure
//     destination queue;
//   - a CloudWatch alarm on each queue's depth that notifies the service's alerts topic;
//   - tags on each queue saying what it is (vidsense:stage, vidsense:service, vidsense:function, vidsense:kind
//     failed|dlq): `vidsense dlq` finds the queues by these tags, never by their names.
// Declared once per service in serverless.yml:
//   custom:
//     failurePaths:
//       service: ingest                             # the queues' vidsense:service tag
//       namePrefix: vidsense-${sls:stage}-ingest    # physical queue and alarm names start with this
//       alertsTopic: AlertsTopic                    # logical id of the alerts SNS topic
//       lambdaRetry: { maximumRetryAttempts: 2, maximumEventAge: 3600 }
//       targetRetry: { maximumRetryAttempts: 24, maximumEventAge: 86400 }
//       consumers: { projectAnswers: {}, uploadLanded: { trigger: s3 } }
// Writing this by hand would be ~60 lines of YAML per consumer, easy to get subtly different.

const QUEUE_RETENTION_SECONDS = 1209600; // 14 days, the SQS maximum: time to investigate and redrive

const lambdaArnOf = (logicalId) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

// The tags vidsense_ops.dlq lists the stage's queues by (a test keeps the two equal).
const QUEUE_TAGS = { stage: 'vidsense:stage', service: 'vidsense:service', fn: 'vidsense:function', kind: 'vidsense:kind' };

function referencesFunction(value, functionLogicalId) {
  if (!value || typeof value !== 'object') return false;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[0] === functionLogicalId) return true;
  if (value.Ref === functionLogicalId) return true;
  return Object.values(value).some((v) => referencesFunction(v, functionLogicalId));
}

class VidsenseFailurePaths {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.provider = serverless.getProvider('aws');
    this.log = log;
    serverless.configSchemaHandler.defineCustomProperties({
      type: 'object',
      properties: {
        failurePaths: {
          type: 'object',
          properties: {
            service: { type: 'string' },
            namePrefix: { type: 'string' },
            alertsTopic: { type: 'string' },
            lambdaRetry: { type: 'object' },
            targetRetry: { type: 'object' },
            consumers: { type: 'object' },
          },
          required: ['service', 'namePrefix', 'alertsTopic', 'lambdaRetry', 'targetRetry', 'consumers'],
          additionalProperties: false,
        },
      },
    });
    this.hooks = {
      'before:package:compileFunctions': () => this.configureFunctions(),
      'after:package:compileEvents': () => this.wireTriggers(),
    };
  }

  get config() {
    return this.serverless.service.custom && this.serverless.service.custom.failurePaths;
  }

  consumers() {
    const { service } = this.serverless;
    const names = Object.keys((this.config && this.config.consumers) || {});
    for (const name of names) {
      if (!service.getAllFunctions().includes(name)) {
        throw new this.serverless.classes.Error(`failurePaths.consumers: no function named ${name}`);
      }
    }
    return names.map((name) => {
      const base = this.provider.naming.getNormalizedFunctionName(name);
      return {
        name,
        options: this.config.consumers[name] || {},
        functionLogicalId: this.provider.naming.getLambdaLogicalId(name),
        dlqLogicalId: `${base}DeadLetterQueue`,
        failedLogicalId: `${base}FailedQueue`,
      };
    });
  }

  // Function-level settings, before the Framework compiles functions (EventInvokeConfig, DLQ) and before the
  // per-function IAM plugin builds the roles (so the queue permissions land in the function's own role).
  configureFunctions() {
    if (!this.config) return;
    const { lambdaRetry } = this.config;
    for (const consumer of this.consumers()) {
      const fn = this.serverless.service.getFunction(consumer.name);
      fn.maximumRetryAttempts = lambdaRetry.maximumRetryAttempts;
      fn.maximumEventAge = lambdaRetry.maximumEventAge;
      fn.destinations = Object.assign({}, fn.destinations, {
        onFailure: { type: 'sqs', arn: lambdaArnOf(consumer.failedLogicalId) },
      });
      const queues = [lambdaArnOf(consumer.failedLogicalId)];
      if (consumer.options.trigger === 's3') queues.push(lambdaArnOf(consumer.dlqLogicalId));
      fn.iamRoleStatements = (fn.iamRoleStatements || []).concat([
        { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: queues },
      ]);
    }
  }

  wireTriggers() {
    if (!this.config) return;
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources;
    const { service, namePrefix, alertsTopic, targetRetry } = this.config;
    const stage = this.provider.getStage();
    for (const consumer of this.consumers()) {
      const slug = consumer.name;
      const dlqSenders = [];
      for (const [logicalId, resource] of Object.entries(resources)) {
        if (resource.Type === 'AWS::Events::Rule') {
          for (const target of resource.Properties.Targets || []) {
            if (!referencesFunction(target.Arn, consumer.functionLogicalId)) continue;
            target.RetryPolicy = target.RetryPolicy || {
              MaximumRetryAttempts: targetRetry.maximumRetryAttempts,
              MaximumEventAgeInSeconds: targetRetry.maximumEventAge,
            };
            target.DeadLetterConfig = { Arn: lambdaArnOf(consumer.dlqLogicalId) };
            dlqSenders.push({ service: 'events.amazonaws.com', sourceArn: lambdaArnOf(logicalId) });
          }
        }
        if (
          resource.Type === 'AWS::SNS::Subscription' &&
          referencesFunction(resource.Properties.Endpoint, consumer.functionLogicalId)
        ) {
          resource.Properties.RedrivePolicy = {
            deadLetterTargetArn: lambdaArnOf(consumer.dlqLogicalId),
          };
          dlqSenders.push({ service: 'sns.amazonaws.com', sourceArn: resource.Properties.TopicArn });
        }
      }
      if (consumer.options.trigger === 's3') {
        // S3 notifications have no dead-letter queue: Lambda's own DLQ keeps events its async queue drops.
        resources[consumer.functionLogicalId].Properties.DeadLetterConfig = {
          TargetArn: lambdaArnOf(consumer.dlqLogicalId),
        };
      } else if (dlqSenders.length === 0) {
        throw new this.serverless.classes.Error(
          `failurePaths: ${slug} has no EventBridge rule or SNS subscription to protect (trigger: s3 for S3)`
        );
      }
      for (const [logicalId, kind] of [
        [consumer.dlqLogicalId, 'dlq'],
        [consumer.failedLogicalId, 'failed'],
      ]) {
        resources[logicalId] = {
          Type: 'AWS::SQS::Queue',
          Properties: {
            QueueName: `${namePrefix}-${slug}-${kind}`,
            MessageRetentionPeriod: QUEUE_RETENTION_SECONDS,
            SqsManagedSseEnabled: true,
            Tags: [
              { Key: QUEUE_TAGS.stage, Value: stage },
              { Key: QUEUE_TAGS.service, Value: service },
              { Key: QUEUE_TAGS.fn, Value: slug },
              { Key: QUEUE_TAGS.kind, Value: kind },
            ],
          },
        };
        resources[`${logicalId}DepthAlarm`] = {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            AlarmName: `${namePrefix}-${slug}-${kind}-not-empty`,
            AlarmDescription:
              kind === 'dlq'
                ? `Events for ${slug} could not be delivered; inspect and redrive ${namePrefix}-${slug}-dlq`
                : `${slug} failed after its retries; inspect and redrive ${namePrefix}-${slug}-failed`,
            Namespace: 'AWS/SQS',
            MetricName: 'ApproximateNumberOfMessagesVisible',
            Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId, 'QueueName'] } }],
            Statistic: 'Maximum',
            Period: 60,
            EvaluationPeriods: 1,
            Threshold: 0,
            ComparisonOperator: 'GreaterThanThreshold',
            TreatMissingData: 'notBreaching',
            AlarmActions: [{ Ref: alertsTopic }],
            OKActions: [{ Ref: alertsTopic }],
          },
        };
      }
      resources[`${consumer.dlqLogicalId}Policy`] = this.queuePolicy(consumer.dlqLogicalId, dlqSenders);
      resources[`${consumer.failedLogicalId}Policy`] = this.queuePolicy(consumer.failedLogicalId, []);
    }
  }

  queuePolicy(queueLogicalId, senders) {
    const queueArn = lambdaArnOf(queueLogicalId);
    const statements = [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:*',
        Resource: queueArn,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ];
    senders.forEach(({ service, sourceArn }, index) => {
      statements.push({
        Sid: `AllowDelivery${index}`,
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': sourceArn } },
      });
    });
    return {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: { Queues: [{ Ref: queueLogicalId }], PolicyDocument: { Version: '2012-10-17', Statement: statements } },
    };
  }
}

module.exports = VidsenseFailurePaths;
