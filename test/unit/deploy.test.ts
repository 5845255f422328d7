/**
 * The deployment files (issue 8) cannot be run here (no Docker engine, no cluster), so they are checked
 * statically: every YAML parses, the configs they mount resolve against our schema, and every name they
 * share with the code (env variables, search attributes, the bundle path, config mount, Secret and
 * ConfigMap references) is the one the code actually reads.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { readWorkerSecrets, resolveConfig, toolEnv, type Config } from '../../src/config';
import { SEARCH_ATTRIBUTES } from '../../src/search-attributes';
import { S3_CREDENTIAL_HINT } from '../../src/storage';
import { REPO_ROOT } from '../support/shared-data';

const DEPLOY = path.join(REPO_ROOT, 'deploy');
type Doc = Record<string, any>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(name) ? [full] : [];
  });
}

function docsOf(rel: string): Doc[] {
  return parseAllDocuments(readFileSync(path.join(DEPLOY, rel), 'utf8'), { merge: true }).map((d) => d.toJS() as Doc).filter((d) => d !== null);
}

function k8s(kind: string): Doc[] {
  return yamlFiles(path.join(DEPLOY, 'k8s')).flatMap((f) => docsOf(path.relative(DEPLOY, f))).filter((d) => d.kind === kind);
}

/** Env names the code reads, proven by feeding each to the function that reads it. */
function understoodEnv(config: Config, name: string): boolean {
  const secrets = readWorkerSecrets(config, { [name]: 'x' });
  if (secrets.llmApiKey === 'x' || secrets.temporalApiKey === 'x') return true;
  if (toolEnv({ [name]: '/x' }).cacheDir === '/x') return true;
  return /^AWS_[A-Z_]+$/.test(name) && S3_CREDENTIAL_HINT.includes(name);
}

const compose = docsOf('docker-compose.yml')[0]!;
const composeConfig = resolveConfig(parse(readFileSync(path.join(DEPLOY, 'config/ultralink.yaml'), 'utf8')));
const configMap = k8s('ConfigMap').find((d) => d.metadata.name === 'ultralink-config')!;
const clusterConfig = resolveConfig(parse(configMap.data['config.yaml']));

describe('deploy files', () => {
  it('every YAML file parses without errors', () => {
    const files = yamlFiles(DEPLOY);
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const file of files) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'), { merge: true })) expect(doc.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
    }
  });

  it('the mounted configs resolve against the config schema and point at the stack they ship with', () => {
    expect(composeConfig.temporal.address).toBe('temporal:7233');
    expect(composeConfig.storage).toMatchObject({ kind: 's3', endpoint: 'http://minio:9000', bucket: 'ultralink' });
    expect(Object.keys(composeConfig.languages).sort()).toEqual(['en', 'es', 'fr', 'ru', 'zh']);
    expect(clusterConfig.temporal.address).toMatch(/^temporal-frontend\.temporal\.svc\.cluster\.local:7233$/);
    expect(clusterConfig.storage.kind).toBe('s3');
    const cloud = resolveConfig(parse(readFileSync(path.join(DEPLOY, 'config/temporal-cloud.yaml'), 'utf8')));
    expect(cloud.temporal.tls?.certPath).toBeDefined();
    expect(cloud.temporal.tls?.keyPath).toBeDefined();
  });

  it('compose: Temporal on PostgreSQL, the UI, MinIO and a replicated worker built from our Dockerfile', () => {
    const s = compose.services as Record<string, Doc>;
    expect(s.postgresql!.image).toMatch(/^postgres:/);
    expect(s.temporal!.image).toMatch(/^temporalio\/server:/);
    expect(s.temporal!.environment.DB).toBe('postgres12');
    expect(s['temporal-ui']!.image).toMatch(/^temporalio\/ui:/);
    expect(s.minio!.image).toMatch(/^minio\/minio:/);
    expect(s.worker!.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
    expect(String(s.worker!.deploy.replicas)).toMatch(/^\$\{ULTRALINK_WORKERS:-[1-9]\d*\}$|^[1-9]\d*$/);
    expect(s.worker!.volumes).toContain('./config/ultralink.yaml:/etc/ultralink/config.yaml:ro');
    const bucket = s['minio-bucket']!.command.join(' ');
    expect(bucket).toContain(`local/${(composeConfig.storage as { bucket: string }).bucket}`);
  });

  it('compose: the worker env carries exactly variables the code reads, including the configured LLM key name', () => {
    const names = Object.keys(compose.services.worker.environment);
    expect(names).toContain(composeConfig.llm.apiKeyEnv);
    for (const name of names) expect(understoodEnv(composeConfig, name), name).toBe(true);
    expect(understoodEnv(composeConfig, 'NOT_READ_ANYWHERE')).toBe(false);
  });

  it('compose: the one-shot setup registers exactly our search attributes with their types', () => {
    const command = (compose.services['temporal-setup'].command as string[]).join(' ');
    const pairs = [...command.matchAll(/--name (\w+) --type (\w+)/g)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(pairs)).toEqual(SEARCH_ATTRIBUTES);
    expect(pairs).toHaveLength(Object.keys(SEARCH_ATTRIBUTES).length);
  });

  it('the Dockerfile installs bzip2, writes the bundle the worker is started with, and mounts the config path', () => {
    const dockerfile = readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-slim$/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]*bzip2/);
    const out = /bundle --out (\S+)/.exec(dockerfile)?.[1];
    expect(out).toBe('/app/workflow-bundle.js');
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(dockerfile)![1]!) as string[];
    expect(cmd).toEqual(['worker', '--bundle', out, '-c', '/etc/ultralink/config.yaml']);
  });

  it('k8s: the Deployment runs the bundle with the ConfigMap mounted and the Secret as env', () => {
    const [deployment] = k8s('Deployment');
    const pod = deployment!.spec.template.spec;
    const container = pod.containers[0];
    expect(deployment!.spec.replicas).toBeGreaterThanOrEqual(1);
    expect(container.image).toMatch(/ultralink-worker:/);
    expect(container.args).toEqual(['worker', '--bundle', '/app/workflow-bundle.js', '-c', '/etc/ultralink/config.yaml']);
    const configVolume = pod.volumes.find((v: Doc) => v.configMap);
    expect(configVolume.configMap.name).toBe(configMap.metadata.name);
    expect(container.volumeMounts.find((m: Doc) => m.name === configVolume.name).mountPath).toBe('/etc/ultralink');
    expect(deployment!.spec.selector.matchLabels).toEqual(deployment!.spec.template.metadata.labels);
    const secretName = container.envFrom[0].secretRef.name;
    const secret = k8s('Secret').find((d) => d.metadata.name === secretName)!;
    const keys = Object.keys(secret.stringData);
    expect(keys).toEqual(expect.arrayContaining([clusterConfig.llm.apiKeyEnv, 'TEMPORAL_API_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']));
    for (const name of [...keys, ...container.env.map((e: Doc) => e.name)]) expect(understoodEnv(clusterConfig, name), name).toBe(true);
  });

  it('k8s: the TLS Secret lands where the commented temporal.tls paths expect it', () => {
    const [deployment] = k8s('Deployment');
    const pod = deployment!.spec.template.spec;
    const tlsVolume = pod.volumes.find((v: Doc) => v.secret?.secretName === 'ultralink-temporal-tls');
    expect(tlsVolume.secret.optional).toBe(true);
    const mount = pod.containers[0].volumeMounts.find((m: Doc) => m.name === tlsVolume.name).mountPath as string;
    const tlsSecret = k8s('Secret').find((d) => d.metadata.name === 'ultralink-temporal-tls')!;
    const paths = [...(configMap.data['config.yaml'] as string).matchAll(/(?:ca|cert|key)Path: (\S+)/g)].map((m) => m[1]);
    expect(paths).toHaveLength(3);
    for (const p of paths) expect(Object.keys(tlsSecret.stringData).map((k) => `${mount}/${k}`)).toContain(p);
  });

  it('k8s: the HPA scales the worker Deployment on CPU', () => {
    const [hpa] = k8s('HorizontalPodAutoscaler');
    const [deployment] = k8s('Deployment');
    expect(hpa!.apiVersion).toBe('autoscaling/v2');
    expect(hpa!.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment!.metadata.name });
    expect(hpa!.spec.metrics[0].resource.name).toBe('cpu');
    expect(hpa!.spec.minReplicas).toBeLessThanOrEqual(hpa!.spec.maxReplicas);
  });
});
