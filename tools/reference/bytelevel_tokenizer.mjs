// Golden ids for the project's byte-level tokenizer (ByteLevelTokenizerFiles, written by `aspo model init`) from
// Hugging Face's own tokenizers (npm tokenizers@0.23.2):
//   cd tools/reference && npm install && node bytelevel_tokenizer.mjs <folder>/tokenizer.json
// The ids printed are the expected values of tests/Aspo.Data.Tests/ByteLevelTokenizerTests.cs.
import tk from 'tokenizers';
const t = tk.Tokenizer.fromFile(process.argv[2]);
const texts = ['Start with 12, add 7. <|im_end|>', '<|im_start|>user\nhé 中文 😀<|im_end|>\n', '', '  a\tb\n'];
for (const s of texts) { const e = await t.encode(s, null, { addSpecialTokens: false }); console.log(JSON.stringify(e.getIds())); }
