// Load a folder of Cube data-model YAML files with Cube's own schema compiler
// (@cubejs-backend/schema-compiler: prepareCompiler + compiler.compile(), the entry point the
// Cube server uses) and print one JSON object: {"cubes": [...], "errors": [...]}.
//
//   node cube_compile.js <compiler prefix (holds node_modules/)> <model folder>
//
// Each file is compiled alone first (a folder of one file: once), so an error is attributed to its file (Cube's messages
// such as "missing_col is not defined" name no cube), then all files together (what Cube
// loads; cross-file problems such as two cubes of one name). Cube's native extension (a Rust
// binary downloaded from GitHub at install time, absent here) is needed only for Jinja and
// Python models; a compile still asks it for a Jinja engine, so the compiler gets a
// NativeInstance (its documented option) whose Jinja engine refuses to render: floe writes
// no Jinja, and a file that has some is reported, not silently accepted.
'use strict';

const fs = require('fs');
const path = require('path');

const [prefix, folder] = process.argv.slice(2);
// Cube's JavaScript transpilation (its default), not the native one an environment may ask for.
process.env.CUBEJS_TRANSPILATION_NATIVE = 'false';
const need = (name) => require(path.join(prefix, 'node_modules', name));
const { prepareCompiler } = need('@cubejs-backend/schema-compiler');
const { NativeInstance } = need('@cubejs-backend/native');

class WithoutJinja extends NativeInstance {
  newJinjaEngine() {
    const refuse = () => {
      throw new Error('Jinja templates need the native extension of Cube, which is not installed');
    };
    return { loadTemplate: refuse, renderTemplate: refuse };
  }
}

function repository(files) {
  return { localPath: () => folder, dataSchemaFiles: async () => files };
}

async function compile(files) {
  const compilers = prepareCompiler(repository(files), { nativeInstance: new WithoutJinja() });
  try {
    await compilers.compiler.compile();
  } catch (error) {
    const text = String(error.messages || error.message || error);
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && l !== 'Errors:');
    return { errors: lines.length ? lines : [text] };
  }
  const cubes = compilers.metaTransformer.cubes.map(({ config }) => ({
    name: config.name,
    dimensions: config.dimensions.map((d) => ({ name: d.name, type: d.type })),
    measures: config.measures.map((m) => ({ name: m.name, type: m.aggType || m.type })),
  }));
  return { errors: [], cubes };
}

async function main() {
  const names = fs.readdirSync(folder).filter((f) => /\.ya?ml$/.test(f)).sort();
  const files = names.map((fileName) => ({
    fileName, content: fs.readFileSync(path.join(folder, fileName), 'utf8'),
  }));
  if (files.length === 1) { // compiled alone is what Cube loads
    const only = await compile(files);
    const errors = only.errors.map((message) => ({ file: files[0].fileName, message }));
    return { cubes: only.cubes || [], errors };
  }
  const errors = [];
  for (const file of files) {
    const alone = await compile([file]);
    alone.errors.forEach((message) => errors.push({ file: file.fileName, message }));
  }
  let cubes = [];
  if (!errors.length) {
    const all = await compile(files);
    all.errors.forEach((message) => errors.push({ file: null, message }));
    cubes = all.cubes || [];
  }
  return { cubes, errors };
}

main().then(
  (result) => process.stdout.write(JSON.stringify(result), () => process.exit(0)),
  (error) => process.stdout.write(JSON.stringify({ cubes: [], errors: [
    { file: null, message: String((error && error.stack) || error) }] }), () => process.exit(0)),
);
