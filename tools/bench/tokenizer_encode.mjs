// Hugging Face tokenizers (npm tokenizers@0.23.2) side of `tools/bench/run data`: encodes every line of a corpus file
// with a fresh tokenizer, one encode call per line, sequentially, and prints {"seconds": …, "tokens": …}.
//   node tools/bench/tokenizer_encode.mjs TOKENIZER_JSON CORPUS_FILE
import fs from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(new URL('../reference/package.json', import.meta.url)); // tools/reference/node_modules
const { Tokenizer } = require('tokenizers');
const [tokenizerPath, corpusPath] = process.argv.slice(2);
const lines = fs.readFileSync(corpusPath, 'utf8').split('\n').filter(l => l.length > 0).map(l => JSON.parse(l));
const tokenizer = Tokenizer.fromFile(tokenizerPath);
const start = process.hrtime.bigint();
let tokens = 0;
for (const text of lines) tokens += (await tokenizer.encode(text, null, { addSpecialTokens: false })).getIds().length;
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ seconds, tokens }));
