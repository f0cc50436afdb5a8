// The error every strict reader throws: the input is not what the format allows (Python's
// verifier.jws.MalformedToken). The message says which part; a status never depends on it.
export class MalformedToken extends Error {
  constructor(message) {
    super(message);
    this.name = 'MalformedToken';
  }
}
