import { Arg, Ctx, Directive, Int, Query, Resolver } from 'type-graphql';
import { checkFirst } from '../../../common/pagination.js';
import type { CatalogContext } from '../context.js';
import { MasterDataExceptionType, ReadModelStatus, SystemHealth, SystemStatus } from './system-status.js';

@Resolver()
export class SystemStatusResolver {
  @Directive('@requiresScopes(scopes: [["store"], ["agent"], ["finance"], ["ops"]])')
  @Query(() => SystemStatus, {
    nullable: true,
    description: 'Each system of record (UP, DEGRADED, DOWN) and how fresh the read models of ERP master data are. For staff (store associates, agents, finance, operations).',
  })
  systemStatus(@Ctx() ctx: CatalogContext): SystemStatus {
    return Object.assign(new SystemStatus(), {
      systems: ctx.status.systems().map((s) => Object.assign(new SystemHealth(), s)),
      readModels: ctx.status.readModels().map((r) => Object.assign(new ReadModelStatus(), r)),
    });
  }

  @Directive('@requiresScopes(scopes: [["agent"], ["finance"], ["ops"]])')
  @Query(() => [MasterDataExceptionType], {
    nullable: true,
    description: 'Master-data changes from the ERP that failed the graph\'s data-quality checks, newest first (`first` 0 to 100, default 20). For agents, finance and operations.',
  })
  masterDataExceptions(@Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number, @Ctx() ctx: CatalogContext): MasterDataExceptionType[] {
    return ctx.status.exceptions(checkFirst(first, 20)).map((e) => Object.assign(new MasterDataExceptionType(), e));
  }
}
