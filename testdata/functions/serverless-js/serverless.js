'use strict';

module.exports = {
  service: 'reports',
  frameworkVersion: '3',
  plugins: ['offline-stub', 'serverless-python-requirements'],
  provider: {
    name: 'aws',
    runtime: 'python3.12',
    architecture: 'arm64',
    region: 'us-east-1',
  },
  custom: {
    pythonRequirements: { layer: true, dockerizePip: false, slim: true },
  },
  package: {
    patterns: ['!node_modules/**', '!.serverless_plugins/**', '!package*.json'],
  },
  functions: {
    render: {
      handler: 'handler.render',
      layers: [{ Ref: 'PythonRequirementsLambdaLayer' }],
    },
  },
};
