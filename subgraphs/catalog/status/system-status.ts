import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../../../common/graphql-types.js';
import type { SystemStateCode } from './ports.js';

export const SystemState: { readonly [K in SystemStateCode]: K } = { UP: 'UP', DEGRADED: 'DEGRADED', DOWN: 'DOWN' };
registerEnumType(SystemState, { name: 'SystemState', description: 'UP; DEGRADED (calls are failing, or the circuit is trying again); DOWN (the circuit is open: calls fail fast).' });

@ObjectType('SystemHealth', { description: 'A system of record as this graph sees it.' })
export class SystemHealth {
  @Field(() => String, { description: 'erp, pos, wms, crm, psp, ecom, tax or marketplace.' })
  system!: string;

  @Field(() => SystemState)
  state!: SystemStateCode;

  @Field(() => String, { nullable: true })
  detail!: string | null;
}

@ObjectType('ReadModelStatus', { description: 'How fresh one read model of ERP master data is.' })
export class ReadModelStatus {
  @Field(() => String, { description: 'ITEM_MASTER or STOCK_POLICIES.' })
  name!: string;

  @Field(() => Int, { nullable: true, description: 'The ERP change sequence last applied; null before the first sync.' })
  sequence!: number | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the ERP made the last applied change.' })
  changeAt!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the graph applied it.' })
  appliedAt!: string | null;

  @Field(() => Float, { nullable: true, description: 'appliedAt − changeAt, in seconds: how long the last change took to reach the graph.' })
  lagSeconds!: number | null;

  @Field(() => Int, { nullable: true, description: "The ERP's latest sequence at the last poll." })
  latestSequence!: number | null;

  @Field(() => String, { description: 'IN_SYNC, CATCHING_UP, RESYNCING, BACKING_OFF (the ERP is failing), STANDBY (another instance syncs), STARTING or STOPPED.' })
  syncState!: string;

  @Field(() => String, { nullable: true })
  lastError!: string | null;
}

@ObjectType('SystemStatus', { description: 'The systems of record and the read models, as this graph sees them now.' })
export class SystemStatus {
  @Field(() => [SystemHealth])
  systems!: SystemHealth[];

  @Field(() => [ReadModelStatus])
  readModels!: ReadModelStatus[];
}

@ObjectType('MasterDataException', { description: 'A master-data change from the ERP that the graph refused (the previous good version stays in service).' })
export class MasterDataExceptionType {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: 'The ERP change sequence.' })
  sequence!: number;

  @Field(() => DateTimeScalar, { description: 'When the ERP made the change.' })
  at!: string;

  @Field(() => String, { description: 'PRODUCT, VARIANT or STOCK_POLICY.' })
  kind!: string;

  @Field(() => String, { description: 'The record: a product id, a SKU, or SKU@location.' })
  key!: string;

  @Field(() => String, { description: 'NON_POSITIVE_PRICE, UNKNOWN_CURRENCY, MALFORMED_SKU, UNKNOWN_LOCATION, UNKNOWN_PRODUCT or NEGATIVE_QUANTITY.' })
  reason!: string;

  @Field(() => String)
  message!: string;

  @Field(() => DateTimeScalar)
  recordedAt!: string;
}
