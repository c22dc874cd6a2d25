import type { Ajv } from 'ajv';
import { cardNumberRefusal, containsCardNumber } from '../common/card-number.ts';

/**
 * `noCardNumber: true` on a string schema: the value may not carry a payment card number
 * (src/common/card-number.ts). Every free-text or reference field of a request body has it;
 * test/api/card-numbers.test.ts checks that no body field was left without it.
 */
export const NO_CARD_NUMBER = { noCardNumber: true } as const;

export function addCardNumberKeyword(ajv: Ajv): Ajv {
  return ajv.addKeyword({
    keyword: 'noCardNumber',
    type: 'string',
    schemaType: 'boolean',
    errors: true,
    validate: function check(enabled: boolean, data: string) {
      if (!enabled || !containsCardNumber(data)) return true;
      (check as unknown as { errors: object[] }).errors = [
        { keyword: 'noCardNumber', message: cardNumberRefusal('the value').replace(/^the value /, ''), params: {} },
      ];
      return false;
    },
  });
}
