import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** Most items one page of a list holds. */
export const MAX_PAGE_SIZE = 100;
/** Items a page holds when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 20;

/** The paging part of a list query (`GET /jobs`, `GET /events`): page size and the keyset cursor. */
export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  /** `nextCursor` of the previous page. */
  @ApiPropertyOptional({ maxLength: 500, description: '`nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}
