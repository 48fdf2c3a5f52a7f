import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * graphql-js parses nested values (`{a:{a:{…}}}` inline in a document) recursively, so a document
 * nested a few thousand levels overflows the call stack before the token limit is reached. That is a
 * fault of the document, not of the server: answer it as the parse error it is. Register after the
 * Armor plugin, whose token-limited parser this wraps.
 */
export function useParseDepthGuard(): Plugin {
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parseFn(source, options);
        } catch (error) {
          if (!(error instanceof RangeError)) throw error;
          throw new GraphQLError('Syntax Error: the document nests too deeply to parse.', {
            extensions: { code: 'GRAPHQL_PARSE_FAILED', http: { status: 400 } },
          });
        }
      });
    },
  };
}
