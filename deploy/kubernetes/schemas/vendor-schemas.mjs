// Regenerates the JSON schemas kubeconform validates the manifests against (the test in
// test/integration/kubernetes.int-spec.ts), for the kinds deploy/kubernetes uses only:
//   pip download kubernetes-validate==1.37.0 --no-deps && unzip kubernetes_validate-*.whl -d kv
//   go mod download -json github.com/kedacore/keda/v2@v2.21.0   # prints the module's Dir
//   node deploy/kubernetes/schemas/vendor-schemas.mjs kv/kubernetes_validate/kubernetes-json-schema/v1.35.0-local-strict <keda Dir>
// The Kubernetes schemas are the wheel's "strict" ones (unknown fields rejected) with the shared
// definitions they reference inlined, so each file stands alone; KEDA's come from its CRDs,
// made strict the same way. File names follow kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const KUBERNETES_KINDS = [
  'configmap-v1',
  'service-v1',
  'deployment-apps-v1',
  'statefulset-apps-v1',
  'job-batch-v1',
  'networkpolicy-networking-v1',
  'ingress-networking-v1',
  'poddisruptionbudget-policy-v1',
  'horizontalpodautoscaler-autoscaling-v2',
];
const KEDA_CRDS = ['keda.sh_scaledobjects.yaml', 'keda.sh_triggerauthentications.yaml'];
// Kind files point into _definitions.json by path, definitions at each other within it.
const DEFINITION_REFS = ['/api/_definitions.json#/$defs/', '#/$defs/'];

const [kubernetesDir, kedaDir] = process.argv.slice(2);
if (!kubernetesDir || !kedaDir) {
  console.error('usage: vendor-schemas.mjs <kubernetes-json-schema/vX-local-strict dir> <keda module dir>');
  process.exit(2);
}
const out = path.dirname(new URL(import.meta.url).pathname);
const definitions = JSON.parse(readFileSync(path.join(kubernetesDir, '_definitions.json'), 'utf8')).$defs;

function inline(schema) {
  const defs = {};
  const pending = [];
  const rewrite = (node) => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== 'object') return node;
    const copy = {};
    for (const [key, value] of Object.entries(node)) {
      const prefix = key === '$ref' && typeof value === 'string' && DEFINITION_REFS.find((p) => value.startsWith(p));
      if (prefix) {
        const name = value.slice(prefix.length);
        if (!(name in defs)) {
          defs[name] = null;
          pending.push(name);
        }
        copy[key] = `#/$defs/${name}`;
      } else if (key !== '$id') {
        copy[key] = rewrite(value);
      }
    }
    return copy;
  };
  const root = rewrite(schema);
  while (pending.length > 0) {
    const name = pending.pop();
    if (!definitions[name]) throw new Error(`definition ${name} missing from _definitions.json`);
    defs[name] = rewrite(definitions[name]);
  }
  return { ...root, $defs: Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b))) };
}

// CRD OpenAPI v3 to JSON schema, strict like the Kubernetes ones.
function strict(node) {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const copy = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === 'properties' ? mapValues(v) : strict(v)]));
  if (copy['x-kubernetes-int-or-string']) {
    delete copy.type;
    copy.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (copy.nullable === true && typeof copy.type === 'string') copy.type = [copy.type, 'null'];
  if (copy.properties && copy.additionalProperties === undefined && !copy['x-kubernetes-preserve-unknown-fields']) {
    copy.additionalProperties = false;
  }
  return copy;
}
const mapValues = (properties) => Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, strict(v)]));

const write = (name, schema) => writeFileSync(path.join(out, `${name}.json`), `${JSON.stringify(schema)}\n`);

for (const kind of KUBERNETES_KINDS) {
  write(kind, inline(JSON.parse(readFileSync(path.join(kubernetesDir, `${kind}.json`), 'utf8'))));
}
for (const file of KEDA_CRDS) {
  const crd = parse(readFileSync(path.join(kedaDir, 'config/crd/bases', file), 'utf8'));
  const group = crd.spec.group.split('.')[0];
  for (const version of crd.spec.versions.filter((v) => v.served)) {
    const schema = strict(version.schema.openAPIV3Schema);
    schema.$schema = 'https://json-schema.org/draft/2020-12/schema';
    write(`${crd.spec.names.kind.toLowerCase()}-${group}-${version.name}`, schema);
  }
}
console.log(`schemas written to ${out}`);
