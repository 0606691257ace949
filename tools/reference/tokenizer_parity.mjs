// Golden tokenizer fixture from Hugging Face's own tokenizers (npm tokenizers@0.23.2) on the Qwen3 tokenizer.json.
//   cd tools/reference && npm install && node tokenizer_parity.mjs ../../.native/tokenizers/qwen3/tokenizer.json
// Writes tests/Aspo.Data.Tests/Fixtures/tokenizer_parity.json: the corpus, the ids HF gives for each text (no special
// tokens added) with each token's offsets (in code points of the original text), and decodes of id sequences that
// split UTF-8 sequences.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import tk from 'tokenizers';

const here = path.dirname(fileURLToPath(import.meta.url));
const tokenizerPath = process.argv[2] ?? path.join(here, '..', '..', '.native', 'tokenizers', 'qwen3', 'tokenizer.json');
const outPath = process.argv[3] ?? path.join(here, '..', '..', 'tests', 'Aspo.Data.Tests', 'Fixtures', 'tokenizer_parity.json');
const tokenizer = tk.Tokenizer.fromFile(tokenizerPath);

// a seeded generator (mulberry32) so the random part of the corpus is the same on every run
let seed = 20251006;
const rand = () => { seed |= 0; seed = (seed + 0x6D2B79F5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

const corpus = [
  '', ' ', '  ', '\n', '\t', 'a', 'Hello world', 'Hello, world!', 'What is the sum of 40 and 2?',
  "I'm sure they'll say it's fine, but we've been told we'd better not. DON'T SHOUT, I'M HERE.",
  "O'Reilly's 'quoted' words, 'tis the season; rock 'n' roll; ma'am", "'S 'T 'RE 'VE 'M 'LL 'D 'ſ 'x",
  'a  b', 'a   b', 'a    b c', '  leading', 'trailing  ', 'trailing\n', '\t\tindented', 'x\r\ny', 'x\ry', '\n\n\nthree newlines',
  ' \n \n x', 'a \n\n b', 'line one\nline two\r\n\r\nline four  \n', 'space before newline \n', 'tab\t\tthen', 'end with spaces   ',
  'a\u00A0b', 'a\u3000b\u3000\u3000c', 'x\u2028y\u2029z', 'a\u0085b', 'a\u200Bb', 'zero\u200Dwidth\u200Cjoiners',
  '12345', '3.14159', '1,000,000.00', '-42 + +7 = -35', '2024-11-21T23:59:59Z', '٣٤٥ and ۱۲۳', '１２３ full width', '½ ⅓ ² ³ ⁴ Ⅻ ⑳',
  '中文测试：你好，世界！', '日本語のテキスト、カタカナとひらがな。', '한국어 텍스트입니다.', 'مرحبا بالعالم', 'שלום עולם', 'नमस्ते दुनिया',
  'สวัสดีชาวโลก', 'Привет, мир!', 'Γειά σου Κόσμε', 'Tiếng Việt có dấu', 'Ελληνικά και English mixed 中文 123',
  '😀😃😄 emoji 👍🏽 👨‍👩‍👧‍👦 🇺🇸🇯🇵 ❤️ ✨', '𠀀abc', 'a𠀀b', '𠀀𠀁𠀂', '𝒜𝒷𝒸 math letters', '𝟘𝟙𝟚 math digits', '𐍈 gothic', ' 𝒜bc', "'𝒜",
  'e\u0301 decomposed', 'A\u030A ring', '\u212B angstrom', 'ﬁ ligature', 'Ǆ titlecase ǅ',
  'def f(x):\n    return x ** 2  # square\n\nprint(f(3))\n', '{"key": [1, 2, {"nested": null}], "s": "a\\"b"}',
  'public static int Main(string[] args) { return args.Length > 0 ? 1 : 0; }', 'for (int i = 0; i < n; ++i) sum += a[i] * b[i];',
  '<html><body class="x">&amp; &lt;tag&gt;</body></html>', 'https://example.com/path?q=1&r=two#frag', 'user@example.org',
  '\\frac{a}{b} + \\sqrt{x^2 + y^2} = \\boxed{42}', '$x^2 + y^2 = z^2$ and $$\\int_0^1 f(x)\\,dx$$',
  'Let\'s think step by step and output the final answer within \\boxed{}.',
  '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nGreet shrek<|im_end|>\n<|im_start|>assistant\n',
  '<think>\nreasoning here\n</think>\n\nThe answer is 4.<|im_end|>', '<|im_start|><|im_end|><|endoftext|>', '<|im_start', 'im_end|>', '<|im_start|>x<|im_start|>',
  '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>', 'text<|endoftext|>more text',
  '...', '?!?!', '---===---', '((()))', '"quoted"', '¿Qué? ¡Sí!', '«guillemets»', '— em dash – en dash',
  'a'.repeat(3000), 'supercalifragilisticexpialidocious'.repeat(40), '9'.repeat(500), '中'.repeat(800), ' '.repeat(100) + 'x',
  '\n'.repeat(50), 'ab\n'.repeat(200), '😀'.repeat(300),
];

// random strings over mixed blocks, valid UTF-16 only (no lone surrogates)
const blocks = [[0x20, 0x7E], [0x20, 0x7E], [0x20, 0x7E], [0xA0, 0x24F], [0x370, 0x3FF], [0x400, 0x4FF], [0x590, 0x6FF], [0x900, 0x97F],
  [0xE00, 0xE7F], [0x2000, 0x206F], [0x3000, 0x30FF], [0x4E00, 0x4FFF], [0xAC00, 0xAD00], [0xFF00, 0xFFEF], [0x1F300, 0x1F64F], [0x1D400, 0x1D7FF], [0x20000, 0x2000F]];
const specials = ['\n', '\r\n', '\t', ' ', '  ', "'s", "'LL", '<|im_end|>', '123', '\u00A0', '\u3000'];
for (let k = 0; k < 400; k++) {
  let s = '';
  const n = 1 + Math.floor(rand() * 40);
  for (let j = 0; j < n; j++) {
    if (rand() < 0.15) { s += pick(specials); continue; }
    const [lo, hi] = pick(blocks);
    const cp = lo + Math.floor(rand() * (hi - lo + 1));
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    s += String.fromCodePoint(cp);
  }
  corpus.push(s);
}

const cases = [];
for (const text of corpus) {
  const enc = await tokenizer.encode(text, null, { addSpecialTokens: false });
  const ids = Array.from(enc.getIds());
  const decoded = await tokenizer.decode(ids, false);
  cases.push({ text, ids, offsets: enc.getOffsets(), decoded });
}

// decoding id sequences that cut UTF-8 sequences (single byte tokens): what from_utf8_lossy gives
const byteIds = [];
for (let b = 0; b < 256; b++) byteIds.push(b); // in Qwen's vocab ids 0..255 are the 256 byte tokens
const decodeCases = [];
for (let k = 0; k < 100; k++) {
  const n = 1 + Math.floor(rand() * 12);
  const ids = [];
  for (let j = 0; j < n; j++) ids.push(rand() < 0.7 ? pick(byteIds) : Math.floor(rand() * 151643));
  decodeCases.push({ ids, text: await tokenizer.decode(ids, false), textSkipSpecial: await tokenizer.decode(ids, true) });
}
const special = [151644, 872, 198, 9707, 151645, 198, 151643];
decodeCases.push({ ids: special, text: await tokenizer.decode(special, false), textSkipSpecial: await tokenizer.decode(special, true) });
// ids the tokenizer has no token for: Qwen's embedding is padded to 151,936 rows and sampling can pick one
for (const ids of [[9707, 151697, 1879], [151697], [9707, 151935, 200000, 1879], [151669, 228, 151700, 189]]) {
  decodeCases.push({ ids, text: await tokenizer.decode(ids, false), textSkipSpecial: await tokenizer.decode(ids, true) });
}

const sha = crypto.createHash('sha256').update(fs.readFileSync(tokenizerPath)).digest('hex');
fs.writeFileSync(outPath, JSON.stringify({ generator: 'tools/reference/tokenizer_parity.mjs', reference: 'tokenizers@0.23.2', tokenizer_sha256: sha, cases, decodeCases }));
console.log(`wrote ${outPath}: ${cases.length} texts, ${decodeCases.length} decode cases`);
