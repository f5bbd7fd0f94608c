'use strict';
// Offline packaging: answer CloudFormation describeStacks with "does not
// exist" (what AWS says for a stack never deployed) instead of calling AWS.
class OfflineStub {
  constructor(serverless) {
    const provider = serverless.getProvider('aws');
    const request = provider.request.bind(provider);
    provider.request = async (service, method, params, opts) => {
      if (service === 'CloudFormation' && method === 'describeStacks') {
        throw new Error(`Stack with id ${params.StackName} does not exist`);
      }
      return request(service, method, params, opts);
    };
  }
}
module.exports = OfflineStub;
