// Counting words the way Chinese writers count them: each Han character (and each kana or
// Hangul syllable) is one; a run of other letters or digits (a Latin word, a number) is one;
// punctuation, spaces and Markdown marks are not counted.

const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}'
const TOKEN = new RegExp(`[${CJK}]|(?:(?![${CJK}])[\\p{L}\\p{N}\\p{M}])+`, 'gu')

/** Words in `text` by the rule above. */
export function countWords(text: string): number {
  let n = 0
  TOKEN.lastIndex = 0
  while (TOKEN.exec(text) !== null) n++
  return n
}
