import { applyDecorators } from '@nestjs/common';
import { Expose, Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsInt,
  IsISO8601,
  Matches,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

// Magic Hour may send null for any field it has no value for, and may add fields at any time, so every
// optional field accepts null or absence; only what the service depends on is checked strictly.

/** An optional string that may be null. */
export const OptionalString = (maxLength = 1000) =>
  applyDecorators(Expose(), IsOptional(), IsString(), MaxLength(maxLength));

// RFC 3339: the ISO 8601 profile that `Date` and Postgres both read, with an explicit offset. Other
// ISO 8601 forms (week dates, ordinal dates, basic format, no offset) pass IsISO8601 but not `Date`.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** An optional RFC 3339 timestamp with an offset that may be null; stored as a timestamp, so it must parse. */
export const OptionalTimestamp = () =>
  applyDecorators(
    Expose(),
    IsOptional(),
    Matches(RFC3339, { message: ({ property }) => `${property} must be an RFC 3339 timestamp with an offset` }),
    IsISO8601({ strict: true }),
  );

/** An optional finite number that may be null. */
export const OptionalNumber = () =>
  applyDecorators(Expose(), IsOptional(), IsNumber({ allowNaN: false, allowInfinity: false }));

/** Largest value of a Postgres `integer`, where counts are stored. */
export const MAX_STORED_INT = 2_147_483_647;

/** An optional whole number from 0 to `MAX_STORED_INT` that may be null. */
export const OptionalCount = () => applyDecorators(Expose(), IsOptional(), IsInt(), Min(0), Max(MAX_STORED_INT));

/** An optional boolean that may be null. */
export const OptionalBoolean = () => applyDecorators(Expose(), IsOptional(), IsBoolean());

/** An optional nested object that may be null, validated as `type`. */
export const OptionalNested = (type: () => new () => object) =>
  applyDecorators(Expose(), IsOptional(), IsObject(), ValidateNested(), Type(type));

/** An optional array that may be null, each element validated as `type`. */
export const OptionalNestedArray = (type: () => new () => object) =>
  applyDecorators(Expose(), IsOptional(), IsArray(), ValidateNested({ each: true }), Type(type));
