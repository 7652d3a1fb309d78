// deploy/kubernetes: the manifests checked for shape (no cluster here): probes on the proxy's
// endpoints, the image's user and read-only root, the Secret and ConfigMap holding only variables
// the proxy reads, a Service that selects the Deployment's pods on the container's named port.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { configVariables, deployDir, readText } from './support';

// YAML manifests are walked freely by the assertions below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [key: string]: any };

const dir = join(deployDir, 'kubernetes');
const load = (file: string): Manifest[] => parseAllDocuments(readText(join(dir, file))).map((document) => {
  expect(document.errors).toEqual([]);
  return document.toJS() as Manifest;
});
const one = (file: string, kind: string): Manifest => {
  const found = load(file).filter((manifest) => manifest.kind === kind);
  expect(found, `${file}: one ${kind}`).toHaveLength(1);
  return found[0]!;
};

describe('kubernetes manifests', () => {
  const kustomization = parse(readText(join(dir, 'kustomization.yaml'))) as { resources: string[]; images: { name: string }[] };
  const deployment = one('deployment.yaml', 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it('kustomization lists the proxy files, and Redis stays optional', () => {
    expect(kustomization.resources.sort()).toEqual(['configmap.yaml', 'deployment.yaml', 'secret.yaml', 'service.yaml']);
    expect(kustomization.images.map((image) => image.name)).toContain(container.image);
  });

  it('Deployment: liveness /healthz, readiness /readyz, on the container port', () => {
    expect(pod.containers).toHaveLength(1);
    expect(container.args).toEqual(['serve']);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
  });

  it('Deployment: the image user, read-only root, no capabilities, and time to drain', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001 });
    expect(container.securityContext).toEqual({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    // preStop pause + the proxy's 10 s drain must fit in the grace period.
    const preStop = Number(container.lifecycle.preStop.exec.command[1]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + 10);
  });

  it('Secret and ConfigMap hold only variables the proxy reads; the secret comes from the Secret', () => {
    const secret = one('secret.yaml', 'Secret');
    const configMap = one('configmap.yaml', 'ConfigMap');
    expect(Object.keys(secret.stringData)).toEqual(['STRM_PROXY_SECRET']);
    for (const name of Object.keys(configMap.data)) expect(configVariables, name).toContain(name);
    expect(configMap.data.STRM_PROXY_SECRET).toBeUndefined();
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }, { secretRef: { name: secret.metadata.name } }]);
  });

  it('Service selects the pods on the named port', () => {
    const service = one('service.yaml', 'Service');
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http' }]);
  });

  it('optional Redis: a cache without persistence, its Service on the port the commented URL names', () => {
    const redis = one('redis.yaml', 'Deployment');
    const service = one('redis.yaml', 'Service');
    const args: string[] = redis.spec.template.spec.containers[0].args;
    expect(args).toEqual(expect.arrayContaining(['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru']));
    expect(service.spec.selector).toEqual(redis.spec.template.metadata.labels);
    const commented = /# STRM_PROXY_REDIS_URL: "(redis:\/\/[^"]+)"/.exec(readText(join(dir, 'configmap.yaml')))?.[1];
    const url = new URL(commented ?? 'redis://missing');
    expect(url.hostname).toBe(service.metadata.name);
    expect(String(service.spec.ports[0].port)).toBe(url.port);
  });
});
