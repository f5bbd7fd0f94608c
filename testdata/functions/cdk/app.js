const cdk = require('aws-cdk-lib');
const lambda = require('aws-cdk-lib/aws-lambda');
const nodejs = require('aws-cdk-lib/aws-lambda-nodejs');
const path = require('path');

const app = new cdk.App();
const stack = new cdk.Stack(app, 'ShopStack', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

const common = new lambda.LayerVersion(stack, 'CommonLayer', {
  code: lambda.Code.fromAsset(path.join(__dirname, 'layers/common')),
  compatibleRuntimes: [lambda.Runtime.PYTHON_3_12],
  compatibleArchitectures: [lambda.Architecture.ARM_64],
});

new lambda.Function(stack, 'ReportFn', {
  runtime: lambda.Runtime.PYTHON_3_12,
  architecture: lambda.Architecture.ARM_64,
  handler: 'app.handler',
  code: lambda.Code.fromAsset(path.join(__dirname, 'lambda/report')),
  layers: [common, lambda.LayerVersion.fromLayerVersionArn(stack, 'Insights',
    'arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension-Arm64:20')],
});

new nodejs.NodejsFunction(stack, 'OrdersFn', {
  runtime: lambda.Runtime.NODEJS_20_X,
  entry: path.join(__dirname, 'lambda/orders/index.js'),
  handler: 'handler',
  projectRoot: path.join(__dirname, 'lambda/orders'),
  depsLockFilePath: path.join(__dirname, 'lambda/orders/package-lock.json'),
  bundling: { metafile: true, sourceMap: true, externalModules: ['@aws-sdk/*'] },
});

new nodejs.NodejsFunction(stack, 'LegacyFn', {
  runtime: lambda.Runtime.NODEJS_16_X,
  entry: path.join(__dirname, 'lambda/orders/legacy.js'),
  handler: 'handler',
  projectRoot: path.join(__dirname, 'lambda/orders'),
  depsLockFilePath: path.join(__dirname, 'lambda/orders/package-lock.json'),
});

new lambda.Function(stack, 'InlineFn', {
  runtime: lambda.Runtime.PYTHON_3_12,
  handler: 'index.handler',
  code: lambda.Code.fromInline('def handler(e, c):\n    return 1\n'),
});

new lambda.Function(stack, 'ToolFn', {
  runtime: lambda.Runtime.PYTHON_3_12,
  architecture: lambda.Architecture.ARM_64,
  handler: 'tool.handler',
  code: lambda.Code.fromAsset(path.join(__dirname, 'build/tool.zip')),
});

new lambda.DockerImageFunction(stack, 'ThumbFn', {
  code: lambda.DockerImageCode.fromImageAsset(path.join(__dirname, 'thumb')),
});

app.synth();
