'use strict';

// Gives every asynchronous consumer of a service what osls cannot declare for it, the same way in every stack:
//   - its two SQS queues: the delivery dead-letter queue `<prefix>-<function>-dlq` and the on-failure destination
//     `<prefix>-<function>-failed`, each with a CloudWatch alarm on its depth that notifies the service's alerts
//     topic, a TLS-only queue policy that lets the delivering AWS service (EventBridge, SNS) write to the DLQ, and
//     tags saying what it is (vidsense:stage, vidsense:service, vidsense:function, vidsense:kind failed|dlq):
//     `vidsense dlq` finds the queues by these tags, never by their names;
//   - the delivery retries and DLQ of the triggers osls has no clean setting for: a `schedule` rule's target
//     (RetryPolicy, DeadLetterConfig), an SNS subscription (RedrivePolicy; osls's own `redrivePolicy` would write a
//     second queue policy, without the TLS-only statement, that replaces this one) and an S3-triggered function
//     (its DeadLetterConfig, `trigger: s3`).
// What osls does declare is written in serverless.yml beside each function, where readers look: Lambda's
// asynchronous retries (maximumRetryAttempts, maximumEventAge), the on-failure destination, an eventBridge
// event's retryPolicy and deadLetterQueueArn, and the sqs:SendMessage grant to the function's queues.
// Declared once per service in serverless.yml:
//   custom:
//     failurePaths:
//       service: ingest                             # the queues' vidsense:service tag
//       namePrefix: vidsense-${sls:stage}-ingest    # physical queue and alarm names start with this
//       alertsTopic: AlertsTopic                    # logical id of the alerts SNS topic
//       targetRetry: { maximumRetryAttempts: 185, maximumEventAge: 86400 }   # only with a schedule consumer
//       consumers: { projectAnswers: {}, uploadLanded: { trigger: s3 } }
// The queues' logical ids, for serverless.yml: <Function>DeadLetterQueue and <Function>FailedQueue.

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
            targetRetry: { type: 'object' },
            consumers: { type: 'object' },
          },
          required: ['service', 'namePrefix', 'alertsTopic', 'consumers'],
          additionalProperties: false,
        },
      },
    });
    this.hooks = {
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
            if (resource.Properties.ScheduleExpression) {
              if (!targetRetry) {
                throw new this.serverless.classes.Error(`failurePaths: ${slug} is scheduled: set targetRetry`);
              }
              target.RetryPolicy = {
                MaximumRetryAttempts: targetRetry.maximumRetryAttempts,
                MaximumEventAgeInSeconds: targetRetry.maximumEventAge,
              };
              target.DeadLetterConfig = { Arn: lambdaArnOf(consumer.dlqLogicalId) };
            }
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
        // S3 notifications have no dead-letter queue: Lambda's own DLQ keeps events its async queue drops. (osls's
        // onError would do, but serverless-iam-roles-per-function then grants sns:Publish on the queue.)
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
