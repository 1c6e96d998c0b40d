// DOCX: mammoth turns the document into HTML (headings, paragraphs, lists, tables), and the
// HTML text extraction turns that into lines: every paragraph and heading on its own line,
// a table row as "a | b | c". The ZIP package is checked first (structure, ZIP bombs).
import mammoth from 'mammoth';
import { htmlToText } from './html.js';
import { FORMAT_EXTENSIONS, type FormatHandler, LoadError, type ParsedUnit, TextBudget } from './types.js';
import { checkZipPackage, isOleFile, libraryMessage } from './zip.js';

export const docx: FormatHandler = {
  format: 'docx',
  extensions: FORMAT_EXTENSIONS.docx,
  parse: parseDocx,
};

const WHAT = 'Word document';

async function parseDocx(file: string, bytes: Uint8Array): Promise<ParsedUnit[]> {
  if (isOleFile(bytes)) {
    throw new LoadError(file, 'the file is password-protected or in the old .doc format (Word 97–2003); remove the password or save it as .docx, then add it again');
  }
  const entries = await checkZipPackage(file, bytes, WHAT);
  if (!entries.some((e) => e.name === '[Content_Types].xml') || !entries.some((e) => e.name.startsWith('word/'))) {
    throw new LoadError(file, 'the file is a ZIP archive but not a Word document (no word/ part inside)');
  }
  let htmlText: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      // Images are not needed; without this, mammoth inlines each one as a base64 data URI.
      { convertImage: mammoth.images.imgElement(async () => ({ src: '' })), externalFileAccess: false },
    );
    htmlText = result.value;
  } catch (err) {
    throw new LoadError(file, `not a valid Word document: ${libraryMessage(err)}`);
  }
  return [{ text: htmlToText(htmlText, new TextBudget(file)), start: 0 }];
}
