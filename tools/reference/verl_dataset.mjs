// A verl-layout prompt dataset written by another tool than ours (DuckDB's Node API), as Parquet with snappy
// compression and nested structs, plus the same rows as JSONL written by JSON.stringify, plus the expected values.
//   cd tools/reference && npm install && node verl_dataset.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', '..', 'tests', 'Aspo.Data.Tests', 'Fixtures');
const rows = [];
const problems = ['What is 1+1?', 'Compute $\\frac{3}{4} + \\frac{1}{4}$.', '求 2 的 10 次方。', 'How many primes are below 20?', "What's 12 × 12?"];
const answers = ['2', '1', '1024', '8', '144'];
for (let i = 0; i < 25; i++) {
  const k = i % problems.length;
  const prompt = i % 7 === 3
    ? [{ role: 'system', content: 'You are a careful solver.' }, { role: 'user', content: `${problems[k]} (#${i}) Let's think step by step and output the final answer within \\boxed{}.` }]
    : [{ role: 'user', content: `${problems[k]} (#${i}) Let's think step by step and output the final answer within \\boxed{}.` }];
  rows.push({
    data_source: i % 2 === 0 ? 'lighteval/MATH' : 'openai/gsm8k',
    prompt,
    ability: 'math',
    reward_model: { style: 'rule', ground_truth: answers[k] },
    extra_info: { split: 'train', index: i },
  });
}
fs.writeFileSync(path.join(out, 'verl_math.jsonl'), rows.map(r => JSON.stringify(r)).join('\n') + '\n');
fs.writeFileSync(path.join(out, 'verl_math.expected.json'), JSON.stringify(rows, null, 1));

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const jsonl = path.join(out, 'verl_math.jsonl').replaceAll("'", "''");
const parquet = path.join(out, 'verl_math.parquet').replaceAll("'", "''");
await conn.run(`COPY (SELECT data_source, prompt, ability, reward_model, extra_info FROM read_json('${jsonl}', format = 'newline_delimited',
  columns = {data_source: 'VARCHAR', prompt: 'STRUCT(role VARCHAR, content VARCHAR)[]', ability: 'VARCHAR',
             reward_model: 'STRUCT(style VARCHAR, ground_truth VARCHAR)', extra_info: 'STRUCT(split VARCHAR, "index" BIGINT)'}))
  TO '${parquet}' (FORMAT parquet, COMPRESSION snappy)`);
const check = await conn.runAndReadAll(`SELECT count(*) AS n, any_value(compression) AS codec FROM parquet_metadata('${parquet}')`);
console.log(`wrote ${rows.length} rows; parquet column chunks: ${JSON.stringify(check.getRowObjectsJson())}`);
