// The product's CSV reader and writer, which the sandbox's bulk import shares: an import file
// parses here exactly as the client wrote it, and the failures and warnings reports are written
// the way the client reads them.
export { csvDocument, parseCsv } from "../../core/3-plan/Csv.js"
