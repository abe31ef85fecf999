// The Marketo client against the sandbox server on 127.0.0.1: every port method, every error
// class (the cases live in ClientSuite.ts, which the conformance check also runs).
import { clientSuite } from "./ClientSuite.js"

clientSuite()
