// What `aegir/chai` gives the js-stores contract suites: chai 4 with the same plugins, in the same
// order. The suite imports it from aegir, its authors' test runner, which is not installed here.

import chai from 'chai';
import chaiAsPromised from 'chai-as-promised';
import chaiBites from 'chai-bites';
import chaiParentheses from 'chai-parentheses';
import chaiString from 'chai-string';
import chaiSubset from 'chai-subset';

// aegir's order (chai-as-promised first, see chaijs/chai#1298).
chai.use(chaiAsPromised);
chai.use(chaiParentheses);
chai.use(chaiSubset);
chai.use(chaiBites);
chai.use(chaiString);

export const expect = chai.expect;
export const assert = chai.assert;
export { chai };
