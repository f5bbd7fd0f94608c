const minimist = require('minimist');
const { v4: uuidv4 } = require('uuid');
const { S3Client } = require('@aws-sdk/client-s3');

const s3 = new S3Client({});

exports.handler = async (event) => {
  const args = minimist(event.argv || []);
  return { id: uuidv4(), args, client: typeof s3 };
};
