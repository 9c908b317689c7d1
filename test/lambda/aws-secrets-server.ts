import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';

export interface SecretsRequest {
  /** The X-Amz-Target, e.g. AmazonSSM.GetParameter or secretsmanager.GetSecretValue. */
  target: string;
  body: Record<string, unknown>;
}

/**
 * A stand-in for SSM Parameter Store and Secrets Manager on 127.0.0.1 that speaks their AWS JSON
 * 1.1 protocol to the real SDK clients (GetParameter, GetSecretValue) and records every request,
 * so tests can tell exactly when AWS would have been asked.
 */
export interface SecretsServer {
  endpoint: string;
  parameters: Map<string, string>;
  secrets: Map<string, string>;
  requests: SecretsRequest[];
  ssmClient(): SSMClient;
  secretsManagerClient(): SecretsManagerClient;
  close(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: 'AKIDTESTTESTTESTTEST', secretAccessKey: 'test-secret-access-key' };

export async function startSecretsServer(): Promise<SecretsServer> {
  const parameters = new Map<string, string>();
  const secrets = new Map<string, string>();
  const requests: SecretsRequest[] = [];
  const clients: Array<{ destroy(): void }> = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      requests.push({ target, body });
      const answer = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${requests.length}` });
        res.end(JSON.stringify(payload));
      };
      if (target === 'AmazonSSM.GetParameter') {
        const name = String(body['Name']);
        const value = parameters.get(name);
        if (value === undefined) return answer(400, { __type: 'ParameterNotFound', message: `Parameter ${name} not found.` });
        return answer(200, {
          Parameter: {
            Name: name,
            Type: 'SecureString',
            Value: body['WithDecryption'] === true ? value : 'AQICAHh-encrypted',
            Version: 1,
            DataType: 'text',
            ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${name}`,
            LastModifiedDate: Math.floor(Date.now() / 1000),
          },
        });
      }
      if (target === 'secretsmanager.GetSecretValue') {
        const id = String(body['SecretId']);
        const value = secrets.get(id);
        if (value === undefined) return answer(400, { __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." });
        return answer(200, { ARN: id, Name: id.split(':').pop(), SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: Math.floor(Date.now() / 1000) });
      }
      return answer(400, { __type: 'UnknownOperationException', message: `not served here: ${target}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const track = <T extends { destroy(): void }>(c: T) => {
    clients.push(c);
    return c;
  };
  return {
    endpoint,
    parameters,
    secrets,
    requests,
    ssmClient: () => track(new SSMClient({ region: 'us-east-1', endpoint, credentials: CREDENTIALS, maxAttempts: 1 })),
    secretsManagerClient: () => track(new SecretsManagerClient({ region: 'us-east-1', endpoint, credentials: CREDENTIALS, maxAttempts: 1 })),
    close: async () => {
      for (const c of clients) c.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
