import minimist from 'minimist';
import ms from 'ms';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const db = new DynamoDBClient({});

export const handler = async (event: { argv?: string[] }) => {
  const args = minimist(event.argv ?? []);
  return { statusCode: 200, timeout: ms('2 days'), args, db: typeof db };
};
