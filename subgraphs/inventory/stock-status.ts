import { registerEnumType } from 'type-graphql';

export enum StockStatus {
  IN_STOCK = 'IN_STOCK',
  LOW_STOCK = 'LOW_STOCK',
  OUT_OF_STOCK = 'OUT_OF_STOCK',
}

registerEnumType(StockStatus, {
  name: 'StockStatus',
  description: 'How much can be promised: OUT_OF_STOCK at 0 available, LOW_STOCK up to the low-stock threshold, IN_STOCK above it.',
});
